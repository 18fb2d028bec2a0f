// The Koa middleware that records http_requests_total and http_request_duration_seconds.
import type { Context, Middleware, Next } from 'koa';
import { diag } from '@opentelemetry/api';
import type { Instruments } from '../collection/instruments';
import { foldCallerKind, foldMethod, routePattern } from '../labels/http-labels';
import { OTHER } from '../labels/vocabulary';

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
export function callerKind(ctx: Context, key: string): string {
  try {
    const state: unknown = ctx.state;
    if (typeof state !== 'object' || state === null) return OTHER;
    return foldCallerKind((state as Record<string, unknown>)[key]);
  } catch {
    return OTHER;
  }
}

/**
 * Records `http_requests_total` and `http_request_duration_seconds` for every request that passes
 * through it. It records when the response has been sent (or the connection closed), so that the
 * status is the one the client received, whatever downstream middleware threw, and the duration
 * includes streamed bodies. It never catches, changes or delays what the service answers.
 */
export function httpMetrics(
  instruments: Instruments,
  options: HttpMetricsOptions = {},
): Middleware {
  const key = options.entityTypeKey ?? DEFAULT_ENTITY_TYPE_KEY;
  let reportedFailure = false;
  return function scanopyHttpMetrics(ctx: Context, next: Next) {
    const start = performance.now();
    // 'close' comes once per response, after it was sent or the client left.
    ctx.res.on('close', () => {
      try {
        // Read when recording: method-override middleware may have changed it for the router.
        const method = ctx.method;
        instruments.recordRequest(
          foldMethod(method),
          routePattern(ctx, method),
          statusLabel(ctx.res.headersSent, ctx.res.statusCode),
          callerKind(ctx, key),
          (performance.now() - start) / 1000,
        );
      } catch (error) {
        // A metric must never take the service down; say so once rather than per request.
        if (!reportedFailure) diag.error('scanopy-metrics: recording a request failed', error);
        reportedFailure = true;
      }
    });
    return next();
  };
}
