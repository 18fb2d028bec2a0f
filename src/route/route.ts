// The metrics route: GET/HEAD on the exact path, bearer auth, the failed-auth limit, the scrape.
import type { Context, Next } from 'koa';
import { authorizationHeaders, bearerCredential, type TokenSet } from '../auth/bearer';
import type { FailureLimiter } from '../auth/rate-limit';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from '../exposition/format';
import type { Scrape } from '../collection/pipeline';
import { answerExposition } from './exposition-answer';
import { peerAddress } from './peer-address';
import { keepScraperErrorsToItself } from './scraper-errors';
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
  /**
   * Whether to leave the path on the request as `ctx._matchedRoute`, as @koa/router does, for a
   * recording middleware that labels requests by it. Default true; false where the package's
   * own recorder is told the path instead (the preload), which keeps the scrape's context
   * the same shape as any other request's.
   */
  labelRequests?: boolean;
}

/**
 * The body before the status, as a service's own handler sets them (`ctx.body = …` alone sets
 * the status too): Koa's response object then gets its fields in the same order as for every
 * other request, and so the same shape, and V8 keeps the optimised code of Koa's response
 * functions (a status set first made the route's answers a shape of their own).
 *
 * The route reads and writes `ctx.request` and `ctx.response` rather than the context's own
 * `ctx.body`, `ctx.set()`...: those are Koa's delegating accessors, closures that share one keyed
 * access, and each name the route used that the service's requests do not added to it, until it
 * went megamorphic for every request after the first scrape (measured: +2,000 instructions a
 * request in `KeyedLoadIC_Megamorphic`).
 */
function answer(ctx: Context, status: number, body: string | Uint8Array): void {
  ctx.response.body = body;
  ctx.response.status = status;
  ctx.response.set('Cache-Control', 'no-store');
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
  const client = peerAddress(ctx.req.socket);
  // Asked before the credential is looked at: a limited address gets the same answer whatever it
  // sends, the right token included, so its answers tell nothing about its guesses.
  const wait = limiter?.retryAfter(client) ?? 0;
  if (wait > 0) {
    answer(ctx, 429, 'Too many failed attempts');
    ctx.response.set('Retry-After', String(wait));
    return;
  }
  if (ctx.request.method !== 'GET' && ctx.request.method !== 'HEAD') {
    answer(ctx, 405, 'Method not allowed');
    ctx.response.set('Allow', ALLOW);
    return;
  }
  // Two Authorization headers are ambiguous (Node would keep the first): refuse them.
  const headers = authorizationHeaders(ctx.req.rawHeaders);
  const credential = headers.length === 1 ? bearerCredential(headers[0]) : undefined;
  if (credential === undefined || !tokens.matches(credential)) {
    limiter?.recordFailure(client);
    answer(ctx, 401, 'Invalid or missing token');
    ctx.response.set('WWW-Authenticate', 'Bearer');
    return;
  }
  if (options.slots && !options.slots.take(ctx.res)) {
    return answer(ctx, 503, 'Too many concurrent scrapes');
  }
  if (await answerExposition(ctx, options.scrape)) keepScraperErrorsToItself(ctx);
}

/** The `/metrics` route as Koa middleware; other paths pass through untouched. */
export function metricsRoute(options: MetricsRouteOptions): KoaMiddleware {
  const path = options.path ?? DEFAULT_METRICS_PATH;
  const labelRequests = options.labelRequests ?? true;
  return function scanopyMetricsRoute(ctx: Context, next: Next): Promise<void> {
    if (ctx.request.path !== path) return next();
    // Label the request with the route's path, as @koa/router does for its own routes.
    if (labelRequests) (ctx as { _matchedRoute?: string })._matchedRoute = path;
    const onAnswer = options.onAnswer;
    if (onAnswer === undefined) return serveMetrics(ctx, options);
    const started = performance.now();
    return serveMetrics(ctx, options).finally(() => {
      const status = ctx.response.status;
      onAnswer(status, status === 200 ? (performance.now() - started) / 1000 : undefined);
    });
  } as KoaMiddleware;
}
