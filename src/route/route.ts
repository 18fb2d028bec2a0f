// The metrics route: GET/HEAD on the exact path, bearer auth, the failed-auth limit, the scrape.
import type { Context, Next } from 'koa';
import { diag } from '../diag';
import { authorizationHeaders, bearerCredential, type TokenSet } from '../auth/bearer';
import type { FailureLimiter } from '../auth/rate-limit';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from '../exposition/format';
import type { Scrape } from '../collection/pipeline';
import { answerExposition } from './exposition-answer';
import type { ScrapeSlots } from './scrape-slots';
import type { KoaMiddleware } from '../types';

export const DEFAULT_METRICS_PATH = '/metrics';
/** The content type of the text format 0.0.4, for scrapers that do not negotiate. */
export const CONTENT_TYPE = PROMETHEUS_TEXT_CONTENT_TYPE;
const ALLOW = 'GET, HEAD';

export interface MetricsRouteOptions {
  /** Exact path of the route (the query string is ignored). Default `/metrics`. */
  path?: string;
  /** The tokens in force; read on every request so that they can rotate. */
  tokens: () => TokenSet;
  /** Limits failed authentications per client address; none: no limit. */
  limiter?: FailureLimiter;
  /** Bounds the scrape responses in flight and their send time; none: no bound. */
  slots?: ScrapeSlots;
  /**
   * Produces the exposition in the negotiated format: text, or bytes to release once sent
   * (MetricsPipeline.scrape).
   */
  scrape: Scrape;
  /**
   * Told of every answer of the route (401, 429 and 503 included): its status, and for a 200 how
   * long it took to produce, in seconds.
   */
  onAnswer?: (status: number, seconds: number | undefined) => void;
}

function answer(ctx: Context, status: number, body: string | Uint8Array): void {
  ctx.status = status;
  ctx.body = body;
  ctx.set('Cache-Control', 'no-store');
}

/**
 * Answers a request for the metrics path: 404 while no token is configured; 429 to everything an
 * address sends once it has failed too often, until its window ends; 405 for methods other than
 * GET and HEAD; 401 without the right bearer token; 503 while the most scrapes allowed are in
 * flight; else 200 with the exposition in the format the request negotiates.
 */
async function serveMetrics(
  ctx: Context,
  options: Omit<MetricsRouteOptions, 'path'>,
): Promise<void> {
  const tokens = options.tokens();
  if (!tokens.enabled) return answer(ctx, 404, 'Metrics not enabled');
  const limiter = options.limiter;
  // The peer's own address: ctx.ip would trust X-Forwarded-For, which a client writes itself,
  // when the service sets app.proxy. Behind a proxy every client shares one address.
  const client = ctx.req.socket?.remoteAddress ?? 'unknown';
  // Asked before the credential is looked at: a limited address gets the same answer whatever it
  // sends, the right token included, so its answers tell nothing about its guesses.
  const wait = limiter?.retryAfter(client) ?? 0;
  if (wait > 0) {
    answer(ctx, 429, 'Too many failed attempts');
    ctx.set('Retry-After', String(wait));
    return;
  }
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    answer(ctx, 405, 'Method not allowed');
    ctx.set('Allow', ALLOW);
    return;
  }
  // Two Authorization headers are ambiguous (Node would keep the first): refuse them.
  const headers = authorizationHeaders(ctx.req.rawHeaders);
  const credential = headers.length === 1 ? bearerCredential(headers[0]) : undefined;
  if (credential === undefined || !tokens.matches(credential)) {
    limiter?.recordFailure(client);
    answer(ctx, 401, 'Invalid or missing token');
    ctx.set('WWW-Authenticate', 'Bearer');
    return;
  }
  if (options.slots && !options.slots.take(ctx.res)) {
    return answer(ctx, 503, 'Too many concurrent scrapes');
  }
  if (await answerExposition(ctx, options.scrape)) keepScraperErrorsToItself(ctx);
}

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * A scraper that hangs up during a large body (a Prometheus scrape timeout) makes Koa report the
 * socket error to the service's `app.on('error')`: an error the package caused, in the service's
 * own error handling. For the metrics response, that error is a debug line of the package.
 */
function keepScraperErrorsToItself(ctx: Context): void {
  const onerror = ctx.onerror.bind(ctx);
  ctx.onerror = (error: Error) => {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code !== undefined && CLIENT_GONE.has(code)) {
      diag.debug(
        `scanopy-metrics: the scraper left before the whole exposition was sent (${code})`,
      );
      return;
    }
    onerror(error);
  };
}

/** The `/metrics` route as Koa middleware; other paths pass through untouched. */
export function metricsRoute(options: MetricsRouteOptions): KoaMiddleware {
  const path = options.path ?? DEFAULT_METRICS_PATH;
  return function scanopyMetricsRoute(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== path) return next();
    // Label the request with the route's path, as @koa/router does for its own routes.
    (ctx as { _matchedRoute?: string })._matchedRoute = path;
    const onAnswer = options.onAnswer;
    if (onAnswer === undefined) return serveMetrics(ctx, options);
    const started = performance.now();
    return serveMetrics(ctx, options).finally(() => {
      const status = ctx.status;
      onAnswer(status, status === 200 ? (performance.now() - started) / 1000 : undefined);
    });
  } as KoaMiddleware;
}
