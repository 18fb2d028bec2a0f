// The package's metrics, defined in one place: names, help, units, labels, and their series.
import { Counter, type CounterSeries } from '../series/counter';
import { DEFAULT_BUCKETS, Histogram, type HistogramSeries } from '../series/histogram';
import { LabelCache } from '../series/label-cache';

const MAX_CACHED_LABEL_SETS = 10_000;

/** What a view (otel-config.yaml) may change about one of the three metrics. */
export interface MetricView {
  /** Label names kept; the others are dropped and their series merged. */
  attributeKeys?: readonly string[];
  /** At most this many series, the `otel_metric_overflow` one included. */
  cardinalityLimit?: number;
  /** Histogram bucket upper bounds (only for the duration histogram). */
  boundaries?: readonly number[];
}

export interface InstrumentsOptions {
  /** Applied to every metric unless its view says otherwise. Default 2000, as in the OTel SDK. */
  cardinalityLimit?: number;
  views?: Partial<Record<MetricName, MetricView>>;
}

export const HTTP_REQUESTS_TOTAL = 'http_requests_total';
export const HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';
export const SCANOPY_EVENTS_TOTAL = 'scanopy_events_total';
export type MetricName =
  typeof HTTP_REQUESTS_TOTAL | typeof HTTP_REQUEST_DURATION_SECONDS | typeof SCANOPY_EVENTS_TOTAL;
export const METRIC_NAMES: readonly MetricName[] = [
  HTTP_REQUESTS_TOTAL,
  HTTP_REQUEST_DURATION_SECONDS,
  SCANOPY_EVENTS_TOTAL,
];

/** The label names of each metric, in the order their values are recorded. */
export const METRIC_LABELS: Readonly<Record<MetricName, readonly string[]>> = {
  http_requests_total: ['method', 'path', 'status', 'entity_type'],
  http_request_duration_seconds: ['method', 'path'],
  scanopy_events_total: ['entity', 'operation'],
};

/** The three metrics Scanopy's operators asked for, defined in one place. */
export class Instruments {
  readonly httpRequests: Counter;
  readonly httpDuration: Histogram;
  readonly events: Counter;
  /**
   * The series a request's labels resolve to, remembered so that the next request with the same
   * labels goes straight to them. Folded labels keep the tuples bounded; the caches are capped
   * all the same, and past the cap a label set is resolved through the series maps each time.
   */
  private readonly requestSeries = new LabelCache<{
    count: CounterSeries;
    duration: HistogramSeries;
  }>(MAX_CACHED_LABEL_SETS);
  private readonly eventSeries = new LabelCache<CounterSeries>(MAX_CACHED_LABEL_SETS);

  constructor(options: InstrumentsOptions = {}) {
    const view = (name: MetricName): MetricView => ({
      cardinalityLimit: options.cardinalityLimit,
      ...options.views?.[name],
    });
    this.httpRequests = new Counter({
      name: HTTP_REQUESTS_TOTAL,
      description: 'Total number of HTTP requests',
      labelNames: METRIC_LABELS[HTTP_REQUESTS_TOTAL],
      ...view(HTTP_REQUESTS_TOTAL),
    });
    this.httpDuration = new Histogram({
      name: HTTP_REQUEST_DURATION_SECONDS,
      description: 'HTTP request duration in seconds',
      unit: 's',
      labelNames: METRIC_LABELS[HTTP_REQUEST_DURATION_SECONDS],
      boundaries: DEFAULT_BUCKETS,
      ...view(HTTP_REQUEST_DURATION_SECONDS),
    });
    this.events = new Counter({
      name: SCANOPY_EVENTS_TOTAL,
      description: 'Total number of events published on the event bus',
      labelNames: METRIC_LABELS[SCANOPY_EVENTS_TOTAL],
      ...view(SCANOPY_EVENTS_TOTAL),
    });
  }

  /** Labels must already be folded (labels.ts). */
  recordRequest(
    method: string,
    path: string,
    status: string,
    entityType: string,
    seconds: number,
  ): void {
    // The path first: it is the label that varies most.
    const key = [path, method, status, entityType];
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = {
        count: this.httpRequests.seriesFor([method, path, status, entityType]),
        duration: this.httpDuration.seriesFor([method, path]),
      };
      this.requestSeries.set(key, series);
    }
    series.count.value++;
    this.httpDuration.recordIn(series.duration, seconds);
  }

  recordEvent(entity: string, operation: string): void {
    const labels = [entity, operation];
    let series = this.eventSeries.get(labels);
    if (series === undefined) {
      series = this.events.seriesFor(labels);
      this.eventSeries.set(labels, series);
    }
    series.value++;
  }

  get all(): readonly (Counter | Histogram)[] {
    return [this.httpRequests, this.httpDuration, this.events];
  }
}
