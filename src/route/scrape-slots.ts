// The in-flight limit and send timeout of scrape responses.
import { diag } from '../diagnostics/diag';

/** What a metrics response offers, over HTTP/1 (ServerResponse) and HTTP/2 (Http2ServerResponse). */
export interface ClosableResponse {
  once(event: 'close', listener: () => void): unknown;
  destroy(error?: Error): unknown;
}

export const DEFAULT_MAX_CONCURRENT_SCRAPES = 8;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 30_000;

/**
 * Bounds what scrapers that stop reading can hold. Each answered scrape keeps its exposition bytes
 * until its response closes, so at most `max` responses may be in flight (beyond that the route
 * answers 503, as promhttp's MaxRequestsInFlight does), and a response still open after
 * `timeoutMs` is destroyed, which frees its bytes and its place. 0 turns either off.
 */
export class ScrapeSlots {
  private inFlight = 0;
  private reportedTimeout = false;

  constructor(
    readonly max: number = DEFAULT_MAX_CONCURRENT_SCRAPES,
    readonly timeoutMs: number = DEFAULT_SCRAPE_TIMEOUT_MS,
  ) {}

  /** Scrape responses open now. */
  get size(): number {
    return this.inFlight;
  }

  /** Takes a place for `response` until it closes; false when every place is taken. */
  take(response: ClosableResponse): boolean {
    if (this.max > 0 && this.inFlight >= this.max) return false;
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    response.once('close', () => {
      this.inFlight--;
      if (timer !== undefined) clearTimeout(timer);
    });
    if (this.timeoutMs > 0) {
      timer = setTimeout(() => {
        if (!this.reportedTimeout) {
          this.reportedTimeout = true;
          diag.warn(
            `scanopy-metrics: a scrape response was not sent within ${this.timeoutMs} ms (SCANOPY_METRICS_SCRAPE_TIMEOUT_MS) and was cut off; the scraper stopped reading`,
          );
        }
        response.destroy();
      }, this.timeoutMs);
      timer.unref();
    }
    return true;
  }
}
