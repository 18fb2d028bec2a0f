// The Koa middleware the baselines (prom-client, OTel SDK) are measured with, written the way such
// middleware usually is: put first, record on the response's `finish`, label the path with the
// route pattern @koa/router matched, and serve GET /metrics without going further.
import type { Context, Middleware, Next } from 'koa';
import { METRICS_PATH } from '../constants';
import type { Subject } from './types';

type RoutedContext = Context & { _matchedRoute?: string };

export function recordingMiddleware(
  subject: Pick<Subject, 'recordRequest' | 'scrape'>,
): Middleware {
  return async function benchMetrics(ctx: RoutedContext, next: Next): Promise<void> {
    const start = performance.now();
    ctx.res.once('finish', () => {
      const entityType = (ctx.state as { entityType?: string }).entityType;
      subject.recordRequest(
        ctx.method,
        ctx._matchedRoute ?? '<unmatched>',
        String(ctx.res.statusCode),
        entityType || 'anonymous',
        (performance.now() - start) / 1000,
      );
    });
    if (ctx.path === METRICS_PATH && ctx.method === 'GET') {
      ctx._matchedRoute = METRICS_PATH;
      ctx.body = await subject.scrape();
      ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
      return;
    }
    await next();
  };
}
