// createMetrics: the pipeline, middleware, route and observer of one process, put together.
import { TokenSet } from './auth/bearer';
import { FailureLimiter } from './auth/rate-limit';
import { eventVocabulary, type EventVocabularyOptions } from './labels/event-labels';
import {
  DEFAULT_ENTITY_TYPE_KEY,
  httpMetrics,
  httpRequestRecorder,
  requestOf,
} from './recorder/middleware';
import { MetricsObserver } from './events/observer';
import { MetricsPipeline, type PipelineOptions } from './collection/pipeline';
import type { ComposedMiddleware, KoaMiddleware, RequestStart } from './types';
import { DEFAULT_METRICS_PATH, metricsRoute } from './route/route';
import {
  DEFAULT_MAX_CONCURRENT_SCRAPES,
  DEFAULT_SCRAPE_TIMEOUT_MS,
  ScrapeSlots,
} from './route/scrape-slots';
import { MAX_TIMER_MS, parsePath } from './config/values';
import { negotiateFormat } from './exposition/negotiate';

export interface ScanopyMetricsOptions extends PipelineOptions {
  /** Bearer token(s) that open the route; none (or only empty strings) → the route answers 404. */
  token?: string | readonly string[];
  /** Path of the metrics route. Default `/metrics`. */
  path?: string;
  /** Key of `ctx.state` holding the caller kind. Default `entityType`. */
  entityTypeKey?: string;
  /** Failed authentications allowed per client address and minute before 429; 0: no limit. Default 30. */
  authFailuresPerMinute?: number;
  /** Scrape responses in flight at once before 503; 0: no limit. Default 8. */
  maxConcurrentScrapes?: number;
  /** A scrape response not sent within this many milliseconds is destroyed; 0: never. Default 30,000. */
  scrapeTimeoutMs?: number;
  /**
   * Entity types and operations to count as themselves beyond Scanopy's own (`entities`,
   * `operations`), how many further well-formed ones are learned (`maxNewEntities`, default 100;
   * `maxNewOperations`, default 200; 0 learns none), and where the one warning per reached cap
   * goes (`warn`, default a line on stderr).
   */
  events?: EventVocabularyOptions;
  /** Whether `firstMiddleware()` answers the route on the service's port. Default true. */
  routeOnServicePort?: boolean;
}

/** A whole number from 0 up, as a number option must be; throws naming the option. */
function wholeNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`createMetrics: ${name}: expected a whole number from 0 up, got ${value}`);
  }
  return value;
}

/** Milliseconds a Node timer can wait, 0 for never; throws naming the option. */
function timerMs(name: string, value: number | undefined, fallback: number): number {
  const ms = wholeNumber(name, value, fallback);
  if (ms > MAX_TIMER_MS) {
    throw new TypeError(`createMetrics: ${name}: expected at most ${MAX_TIMER_MS}, got ${ms}`);
  }
  return ms;
}

function tokenList(token: string | readonly string[] | undefined): readonly string[] {
  if (token === undefined) return [];
  return typeof token === 'string' ? [token] : token;
}

/**
 * Everything the package does for one process: the pipeline (provider, reader, metrics), the Koa
 * middleware and route, and the event observer. Build it once and share it between Koa apps.
 */
export class ScanopyMetrics {
  readonly pipeline: MetricsPipeline;
  readonly observer: MetricsObserver;
  readonly path: string;
  readonly entityTypeKey: string;
  private tokens: TokenSet;
  /** The failed-authentication limit (cluster aggregation shares its failures between workers). */
  readonly limiter: FailureLimiter;
  private readonly slots: ScrapeSlots;
  private readonly routeOnServicePort: boolean;

  constructor(options: ScanopyMetricsOptions = {}) {
    this.pipeline = new MetricsPipeline(options);
    this.observer = new MetricsObserver(this.pipeline.instruments, eventVocabulary(options.events));
    const path = parsePath(options.path ?? DEFAULT_METRICS_PATH);
    if ('error' in path) throw new TypeError(`createMetrics: path: ${path.error}`);
    this.path = path.value;
    this.entityTypeKey = options.entityTypeKey ?? DEFAULT_ENTITY_TYPE_KEY;
    this.tokens = new TokenSet(tokenList(options.token));
    this.limiter = new FailureLimiter({
      limit: wholeNumber('authFailuresPerMinute', options.authFailuresPerMinute, 30),
    });
    this.slots = new ScrapeSlots(
      wholeNumber(
        'maxConcurrentScrapes',
        options.maxConcurrentScrapes,
        DEFAULT_MAX_CONCURRENT_SCRAPES,
      ),
      timerMs('scrapeTimeoutMs', options.scrapeTimeoutMs, DEFAULT_SCRAPE_TIMEOUT_MS),
    );
    this.routeOnServicePort = options.routeOnServicePort ?? true;
  }

  /** Koa middleware recording the HTTP metrics; put it first. */
  middleware(): KoaMiddleware {
    return httpMetrics(this.pipeline.instruments, { entityTypeKey: this.entityTypeKey });
  }

  /** Koa middleware serving the metrics route; other paths pass through. */
  route(): KoaMiddleware {
    return this.metricsRoute(true);
  }

  /**
   * The route; `labelRequests` false where the package's recorder is told the path itself, so
   * that nothing is written to the scrape's context.
   */
  private metricsRoute(labelRequests: boolean): KoaMiddleware {
    return metricsRoute({
      path: this.path,
      tokens: () => this.tokens,
      limiter: this.limiter,
      slots: this.slots,
      scrape: (format) => this.pipeline.scrape(format),
      onAnswer: (status, seconds) => this.pipeline.instruments.recordScrape(status, seconds),
      labelRequests,
    });
  }

  /** Replaces the accepted tokens (rotation without restart); none disables the route. */
  setTokens(token: string | readonly string[] | undefined): void {
    this.tokens = new TokenSet(tokenList(token));
  }

  /** Counts one domain event, as the observer does. */
  recordEvent(event: unknown): void {
    this.observer.record(event);
  }

  /** Subscribes the observer to the `scanopy:events` diagnostics channel. */
  subscribeToEventsChannel(): () => void {
    return this.observer.subscribeToChannel();
  }

  /**
   * The current exposition text, as the route serves it to a request with this `Accept` header
   * (none: the Prometheus text format 0.0.4).
   */
  async scrape(accept?: string): Promise<string> {
    const exposition = await this.pipeline.scrape(negotiateFormat(accept));
    try {
      return exposition.bytes.toString('utf8');
    } finally {
      exposition.release();
    }
  }

  shutdown(): Promise<void> {
    return this.pipeline.shutdown();
  }

  /**
   * The middleware the preload puts first in every Koa app: it records the request, and answers
   * the metrics route itself, so the service's own middleware (auth, body parser, rate limiter)
   * neither sees nor blocks a scrape.
   */
  firstMiddleware(): KoaMiddleware {
    // The route elsewhere (its own port) or not at all: the path is the service's like any other.
    if (!this.routeOnServicePort) return this.middleware();
    const startRecording = httpRequestRecorder(this.pipeline.instruments, {
      entityTypeKey: this.entityTypeKey,
    });
    const route = this.metricsRoute(false);
    const path = this.path;
    return (ctx, next) => {
      if (requestOf(ctx).path !== path) {
        startRecording(ctx);
        // What Koa's next() resolves to is not read: as app.use() middleware it is void.
        return next() as Promise<void>;
      }
      startRecording(ctx, path);
      return route(ctx, next);
    };
  }

  /**
   * What the preload runs at the start of each request of an instrumented application, in Koa's
   * `handleRequest` (a step of the middleware chain less than `firstMiddleware`): it starts
   * recording the request and returns what the application runs for it: for the metrics path,
   * the route, so that the service's own middleware neither sees nor blocks a scrape; for any
   * other path, the application's own middleware.
   */
  requestStart(): RequestStart {
    const startRecording = httpRequestRecorder(this.pipeline.instruments, {
      entityTypeKey: this.entityTypeKey,
    });
    if (!this.routeOnServicePort) {
      return (ctx, appMiddleware) => {
        startRecording(ctx);
        return appMiddleware;
      };
    }
    const route = this.metricsRoute(false);
    const path = this.path;
    return (ctx, appMiddleware) => {
      if (requestOf(ctx).path !== path) {
        startRecording(ctx);
        return appMiddleware;
      }
      startRecording(ctx, path);
      const answer: ComposedMiddleware = (c) => route(c, () => appMiddleware(c));
      return answer;
    };
  }
}

export function createMetrics(options: ScanopyMetricsOptions = {}): ScanopyMetrics {
  return new ScanopyMetrics(options);
}
