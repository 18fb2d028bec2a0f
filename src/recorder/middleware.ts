// The Koa middleware that records the HTTP metrics of every request: count, duration, requests in
// flight, request and response body sizes.
import type { Context, Next } from 'koa';
import { diag } from '../diagnostics/diag';
import type { Instruments, RequestSeries } from '../collection/instruments';
import { foldCallerKind, foldMethod, routePattern } from '../labels/http-labels';
import { OTHER } from '../labels/vocabulary';
import type { GaugeSeries } from '../series/gauge';
import {
  countRequestBody,
  countResponseBody,
  installBodyCounting,
  responseHasBody,
  type BodyBytes,
} from './body-bytes';
import type { KoaContext, KoaMiddleware } from '../types';

export const DEFAULT_ENTITY_TYPE_KEY = 'entityType';

export interface HttpMetricsOptions {
  /** Key of `ctx.state` where the service's auth leaves the caller kind. Default `entityType`. */
  entityTypeKey?: string;
}

const STATUS_LABELS: string[] = [];
/**
 * The status the client received. A client that went away before the response headers were
 * sent received none: that is counted as 499, nginx's "client closed request", rather than as
 * whatever status the response object happened to hold.
 */
export function statusLabel(headersSent: boolean, code: number): string {
  if (!headersSent) return CLIENT_CLOSED;
  return (STATUS_LABELS[code] ??= String(code));
}
export const CLIENT_CLOSED = '499';

/**
 * The caller kind the service's auth left at `ctx.state[key]`. A state that cannot be read (a
 * throwing getter, `ctx.state = null`, a Proxy that throws) gives `other`: the request is counted
 * all the same.
 */
export function callerKind(ctx: KoaContext, key: string): string {
  try {
    const state: unknown = ctx.state;
    if (typeof state !== 'object' || state === null) return OTHER;
    return foldCallerKind((state as Record<string, unknown>)[key]);
  } catch {
    return OTHER;
  }
}

/**
 * Whether the request has no body at all: an HTTP/1 request with neither Content-Length nor
 * Transfer-Encoding (RFC 9112, 6.3), so there is nothing to count or wait for.
 */
function hasNoBody(req: Context['req']): boolean {
  const headers = req.headers;
  return (
    req.httpVersionMajor === 1 &&
    headers['content-length'] === undefined &&
    headers['transfer-encoding'] === undefined
  );
}

/**
 * Koa's request, whose `method` and `path` the context's own only delegate to: read there, they
 * cost no delegating getter (a keyed load shared by all of them, megamorphic in every Koa
 * process). A context without one (not Koa's) is read as it is.
 */
export function requestOf(ctx: KoaContext): { readonly method: string; readonly path: string } {
  return (ctx as { request?: KoaContext }).request ?? ctx;
}

/**
 * Records the HTTP metrics of every request that passes through it:
 *
 * - on arrival, `http_requests_in_flight` goes up on the series of the request's method and of
 *   the caller kind known at that moment (the package's middleware runs first, before the
 *   service's auth, so that is `anonymous` unless something earlier set it); it comes down on
 *   that same series exactly once, when the response has been sent or the client left;
 * - when the response has been sent (or the connection closed): `http_requests_total`,
 *   `http_request_duration_seconds` and `http_response_size_bytes`, so that the status is the one
 *   the client received whatever downstream middleware threw, and the duration and the size
 *   include streamed bodies;
 * - once the request stream is done as well (it may still be delivering the body of a request
 *   answered early): `http_request_size_bytes`.
 *
 * It never catches, changes or delays what the service answers, and never reads the body.
 */
export function httpMetrics(
  instruments: Instruments,
  options: HttpMetricsOptions = {},
): KoaMiddleware {
  const startRecording = httpRequestRecorder(instruments, options);
  // Written against Koa's own types, offered under the package's structural one.
  return function scanopyHttpMetrics(ctx: Context, next: Next) {
    startRecording(ctx);
    return next();
  } as KoaMiddleware;
}

/**
 * What `httpMetrics` does for each request before it hands on, as a function of the context
 * alone: the preload calls it from Koa's `handleRequest`, ahead of the application's composed
 * middleware, which saves the hot path a step of the middleware chain (a bound function and a
 * promise per request).
 */
export function httpRequestRecorder(
  instruments: Instruments,
  options: HttpMetricsOptions = {},
): (ctx: KoaContext, pattern?: string) => void {
  const key = options.entityTypeKey ?? DEFAULT_ENTITY_TYPE_KEY;
  installBodyCounting();
  let reportedFailure = false;
  const report = (error: unknown): void => {
    // A metric must never take the service down; say so once rather than per request.
    if (!reportedFailure) diag.error('scanopy-metrics: recording a request failed', error);
    reportedFailure = true;
  };
  /** Where this recorder leaves a request's record on its response, for `onClose`. */
  const RECORD = Symbol('scanopy-metrics.request');
  type Recorded = { [RECORD]?: RequestRecord };
  /** Records a request whose response was sent or whose client left (once per request). */
  const finish = (ctx: Context, record: RequestRecord): void => {
    if (record.inFlight !== undefined) record.inFlight.value--;
    const { req, res } = ctx;
    let series: RequestSeries;
    try {
      // Read when recording: method-override middleware may have changed it for the router.
      const method = requestOf(ctx).method;
      const status = res.statusCode;
      series = instruments.requestFinished(
        foldMethod(method),
        record.pattern ?? routePattern(ctx, method),
        statusLabel(res.headersSent, status),
        callerKind(ctx, key),
        (now() - record.start) / 1000,
        responseHasBody(method, status) ? record.sent : 0,
      );
    } catch (error) {
      report(error);
      return;
    }
    const bodyDone = record.bodyless || req.readableEnded || req.destroyed;
    if (bodyDone) instruments.recordRequestBody(series, record.received);
    else req.once('close', () => instruments.recordRequestBody(series, record.received));
  };
  // `pattern`: the path label, for a request whose route is known before any router runs (the
  // metrics route's own requests); otherwise the router's pattern, read when the request ends.
  function startRecording(koaContext: KoaContext, pattern?: string): void {
    // Koa's own context under the package's structural type.
    const ctx = koaContext as unknown as Context;
    const { req, res } = ctx;
    // A response this recorder records already (an application served inside another's
    // middleware by hand): counted once, by the outer one.
    if ((res as Recorded)[RECORD] !== undefined) return;
    const record = new RequestRecord(now(), pattern, ctx);
    (res as Recorded)[RECORD] = record;
    try {
      // A request without a body (most GETs) is not marked for counting at all.
      record.bodyless = hasNoBody(req);
      if (!record.bodyless) countRequestBody(req, record);
      countResponseBody(res, record);
      record.inFlight = instruments.requestArrived(
        foldMethod(requestOf(ctx).method),
        callerKind(ctx, key),
      );
    } catch (error) {
      report(error);
    }
    res.on('close', onClose);
  }
  /**
   * 'close' comes once per response, after it was sent or the client left. One listener for
   * every response, which finds the record on it: a function per request cost a closure, its
   * context and a lazy compile at its first call, on every request.
   */
  function onClose(this: Recorded): void {
    const record = this[RECORD];
    // Once, whatever emits it again; and first, whatever happens next: the request is no
    // longer in flight.
    if (record === undefined || record.closed) return;
    record.closed = true;
    finish(record.ctx, record);
  }
  return startRecording;
}

/**
 * What the middleware keeps of one request until its response closes: one object, whose body
 * counts the counting `push`, `write` and `end` update.
 */
class RequestRecord implements BodyBytes {
  received = 0;
  sent = 0;
  ending = false;
  closed = false;
  /** An HTTP/1 request without body framing: nothing to count or wait for. */
  bodyless = false;
  inFlight: GaugeSeries | undefined = undefined;
  constructor(
    readonly start: number,
    /** The path label, when known at the start; else the router's pattern at the end. */
    readonly pattern: string | undefined,
    readonly ctx: Context,
  ) {}
}

/**
 * `performance`, read at the first request rather than at each: it is a lazily defined global (a
 * getter call at every read), and its first read loads perf_hooks, which start-up need not pay.
 */
let clock: { now(): number } | undefined;
function now(): number {
  return (clock ??= performance).now();
}
