// A scraper that hangs up during the body is the package's business, not the service's errors.
import type { Context } from 'koa';
import { diag } from '../diagnostics/diag';

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The contexts of the route's 200 answers: their connection errors are the scraper's doing. */
const scrapes = new WeakSet<object>();
/** The applications' contexts (`app.context`, every request context's prototype) that filter. */
const filtering = new WeakSet<object>();

type OnError = (this: Context, error: Error) => void;

/**
 * A scraper that hangs up during a large body (a Prometheus scrape timeout) makes Koa report the
 * socket error to the service's `app.on('error')`: an error the package caused, in the service's
 * own error handling. For the metrics response, that error is a debug line of the package.
 *
 * The filter is put once on the application's context, the prototype of every request context,
 * and tells the scrapes by a WeakSet: an `onerror` of its own on each scrape's context would give
 * those contexts a hidden class no other request has, and V8 would throw away the optimised code
 * of Koa's functions that meet it at every scrape (and again when that class dies in a full
 * collection). A service that sets `ctx.onerror` on a request's own context shadows the filter:
 * then the hang-up reaches its handler, as it would without the package.
 */
export function keepScraperErrorsToItself(ctx: Context): void {
  scrapes.add(ctx);
  const appContext = Object.getPrototypeOf(ctx) as { onerror?: unknown } | null;
  if (appContext === null || filtering.has(appContext)) return;
  const inherited = appContext.onerror;
  if (typeof inherited !== 'function') return;
  filtering.add(appContext);
  appContext.onerror = function onerror(this: Context, error: Error): void {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code !== undefined && CLIENT_GONE.has(code) && scrapes.has(this)) {
      diag.debug(
        `scanopy-metrics: the scraper left before the whole exposition was sent (${code})`,
      );
      return;
    }
    (inherited as OnError).call(this, error);
  };
}
