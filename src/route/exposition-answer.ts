// The 200 answer of the metrics route: the negotiated format, collected whole, then compressed off
// the main thread where the scraper accepts it, before any header is sent; a large one sent in slices.
import type { Context } from 'koa';
import { diag } from '../diagnostics/diag';
import type { Scrape } from '../collection/pipeline';
import { compress, MIN_COMPRESSED_SIZE, OFFERED_CODINGS } from '../exposition/compress';
import { negotiateEncoding, negotiateFormat } from '../exposition/negotiate';
import { BODY_SLICE_BYTES, sendInSlices } from './sliced-send';

const NOTHING_TO_RELEASE = (): void => undefined;

function failed(ctx: Context, error: unknown): false {
  diag.error('scanopy-metrics: scrape failed', error);
  ctx.response.body = 'Metrics collection failed';
  ctx.response.status = 500;
  ctx.response.set('Cache-Control', 'no-store');
  return false;
}

/**
 * Answers with the exposition in the format the request's `Accept` negotiates, compressed as its
 * `Accept-Encoding` allows (not for HEAD, not below MIN_COMPRESSED_SIZE). The body is complete
 * before the status is set, so a scrape that fails at any point gets a whole 500, never a 200
 * with half a body. Returns whether it answered 200.
 */
export async function answerExposition(ctx: Context, scrape: Scrape): Promise<boolean> {
  const format = negotiateFormat(ctx.request.get('Accept') || undefined);
  let bytes: Buffer;
  let release = NOTHING_TO_RELEASE;
  try {
    const exposition = await scrape(format);
    if (typeof exposition === 'string') {
      bytes = Buffer.from(exposition, 'utf8');
    } else {
      // A Buffer: the public type only names what callers read of it (no @types/node needed).
      bytes = exposition.bytes as Buffer;
      release = exposition.release;
    }
  } catch (error) {
    return failed(ctx, error);
  }
  let body = bytes;
  let coding = 'identity';
  if (ctx.request.method !== 'HEAD' && bytes.length >= MIN_COMPRESSED_SIZE) {
    coding = negotiateEncoding(ctx.request.get('Accept-Encoding') || undefined, OFFERED_CODINGS);
    if (coding === 'gzip' || coding === 'zstd') {
      try {
        body = await compress(bytes, coding);
      } catch (error) {
        release();
        return failed(ctx, error);
      }
      // The compressed copy is what is sent: the exposition's bytes are free at once.
      release();
      release = NOTHING_TO_RELEASE;
    }
  }
  // Koa would write a large body whole, in one turn: the package sends it a slice a turn itself.
  const sliced = ctx.request.method !== 'HEAD' && body.length > BODY_SLICE_BYTES;
  if (sliced) {
    ctx.response.status = 200;
    ctx.respond = false;
    ctx.response.length = body.length;
  } else {
    // The body before the status, as answer() in route.ts does, for the same reason.
    ctx.response.body = body;
    ctx.response.status = 200;
  }
  ctx.response.set('Cache-Control', 'no-store');
  ctx.response.set('Content-Type', format.contentType);
  ctx.response.set('Vary', 'Accept, Accept-Encoding');
  if (coding !== 'identity') ctx.response.set('Content-Encoding', coding);
  // Sent, or the scraper left: either way the bytes are no longer read.
  if ((ctx.res as { destroyed?: boolean }).destroyed === true) release();
  else ctx.res.once('close', release);
  if (sliced) sendInSlices(ctx.res, body);
  return true;
}
