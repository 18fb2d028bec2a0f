// The package's metrics, defined in one place: names, help, units, labels, and their series.
import { Counter, type CounterSeries } from '../series/counter';
import { Gauge, type GaugeSeries } from '../series/gauge';
import { DEFAULT_BUCKETS, Histogram, type HistogramSeries } from '../series/histogram';
import { DEFAULT_CARDINALITY_LIMIT } from '../series/series-map';
import { TupleIndex } from '../series/tuple-index';
import { offerExemplar, tracerRegistered } from './exemplars';

/**
 * Label tuples the hot path's caches remember (past that, tuples are resolved through the series
 * maps, exactly, each time): more than the default limit allows series, at about 48 bytes each.
 */
const MAX_CACHED_LABEL_SETS = 50_000;

/** What a view (otel-config.yaml) may change about one of the package's metrics. */
export interface MetricView {
  /** Label names kept; the others are dropped and their series merged. */
  attributeKeys?: readonly string[];
  /** At most this many series, the `otel_metric_overflow` one included. */
  cardinalityLimit?: number;
  /** Histogram bucket upper bounds (only for the histograms). */
  boundaries?: readonly number[];
}

export interface InstrumentsOptions {
  /** Applied to every metric unless its view says otherwise. Default 20,000 (series-map.ts). */
  cardinalityLimit?: number;
  views?: Partial<Record<MetricName, MetricView>>;
  /** Where the one line about a metric that reached its limit goes. Default: stderr. */
  warn?: (line: string) => void;
  /**
   * Adds the `entity_type` label to `http_request_duration_seconds`. Off by default: the
   * original three metrics keep their label sets unless asked.
   */
  durationEntityType?: boolean;
}

/** The self-metric counting, by metric, the recordings that went to an overflow series. */
export const SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL = 'scanopy_metrics_series_overflow_total';

/** The OTel instrument kinds of the package's metrics, as otel-config.yaml's limits name them. */
export type InstrumentKind = 'counter' | 'histogram' | 'up_down_counter';

/** The line written once when a metric reaches its limit: which metric, and what raises it. */
export function overflowWarning(metric: string, kind: InstrumentKind, limit: number): string {
  return (
    `scanopy-metrics: ${metric} reached its cardinality limit of ${limit} series; further label` +
    ` sets go to otel_metric_overflow="true" (raise meter_provider.readers[].pull.cardinality_limits.${kind}` +
    ` or a view's aggregation_cardinality_limit in otel-config.yaml, or createMetrics' cardinalityLimit)`
  );
}

function toStderr(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // No stderr to write to: the self-metric still counts.
  }
}

export const HTTP_REQUESTS_TOTAL = 'http_requests_total';
export const HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';
export const SCANOPY_EVENTS_TOTAL = 'scanopy_events_total';
export const HTTP_REQUESTS_IN_FLIGHT = 'http_requests_in_flight';
export const HTTP_REQUEST_SIZE_BYTES = 'http_request_size_bytes';
export const HTTP_RESPONSE_SIZE_BYTES = 'http_response_size_bytes';
export type MetricName =
  | typeof HTTP_REQUESTS_TOTAL
  | typeof HTTP_REQUEST_DURATION_SECONDS
  | typeof SCANOPY_EVENTS_TOTAL
  | typeof HTTP_REQUESTS_IN_FLIGHT
  | typeof HTTP_REQUEST_SIZE_BYTES
  | typeof HTTP_RESPONSE_SIZE_BYTES;
export const METRIC_NAMES: readonly MetricName[] = [
  HTTP_REQUESTS_TOTAL,
  HTTP_REQUEST_DURATION_SECONDS,
  SCANOPY_EVENTS_TOTAL,
  HTTP_REQUESTS_IN_FLIGHT,
  HTTP_REQUEST_SIZE_BYTES,
  HTTP_RESPONSE_SIZE_BYTES,
];

/** The metrics route's own metrics (promhttp's, under the package's prefix). */
export const SCANOPY_METRICS_SCRAPES_TOTAL = 'scanopy_metrics_scrapes_total';
export const SCANOPY_METRICS_SCRAPE_DURATION_SECONDS = 'scanopy_metrics_scrape_duration_seconds';

/**
 * The label names each metric can have, in the order their values are recorded.
 * `http_request_duration_seconds` has `entity_type` only when `durationEntityType` is on.
 */
export const METRIC_LABELS: Readonly<Record<MetricName, readonly string[]>> = {
  http_requests_total: ['method', 'path', 'status', 'entity_type'],
  http_request_duration_seconds: ['method', 'path', 'entity_type'],
  scanopy_events_total: ['entity', 'operation'],
  http_requests_in_flight: ['method', 'entity_type'],
  http_request_size_bytes: ['method', 'path'],
  http_response_size_bytes: ['method', 'path'],
};

/** What a view's selector and aggregation see of each metric: its OTel instrument type and unit. */
export const METRIC_INSTRUMENTS: Readonly<
  Record<MetricName, { type: InstrumentKind; unit: string }>
> = {
  http_requests_total: { type: 'counter', unit: '' },
  http_request_duration_seconds: { type: 'histogram', unit: 's' },
  scanopy_events_total: { type: 'counter', unit: '' },
  http_requests_in_flight: { type: 'up_down_counter', unit: '' },
  http_request_size_bytes: { type: 'histogram', unit: 'By' },
  http_response_size_bytes: { type: 'histogram', unit: 'By' },
};

/** Body sizes in bytes: 256 B to 16 MiB by x4, as Scanopy's own size histograms. */
export const SIZE_BUCKETS: readonly number[] = [
  256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216,
];

/** The series one finished request records into, resolved once per label set. */
export interface RequestSeries {
  readonly count: CounterSeries;
  readonly duration: HistogramSeries;
  readonly requestSize: HistogramSeries;
  readonly responseSize: HistogramSeries;
}

/** The metrics Scanopy's operators asked for, defined in one place. */
export class Instruments {
  readonly httpRequests: Counter;
  readonly httpDuration: Histogram;
  readonly events: Counter;
  readonly httpInFlight: Gauge;
  readonly httpRequestSize: Histogram;
  readonly httpResponseSize: Histogram;
  /** `scanopy_metrics_series_overflow_total{metric}`: a 0 series per metric from the start. */
  readonly overflows: Counter;
  private readonly warn: (line: string) => void;
  /** Answers of the metrics route, by status code. */
  readonly scrapes: Counter;
  /** Time the route took to produce each 200 answer (collection, serialization, compression). */
  readonly scrapeDuration: Histogram;
  /**
   * Whether requests leave exemplars: only while the host has a tracer provider registered
   * (see exemplars.ts); refreshed by `refreshTracing()`, never looked up per request.
   */
  private exemplars = false;
  /**
   * The series a request's labels resolve to, remembered so that the next request with the same
   * labels goes straight to them. Folded labels keep the tuples bounded; the caches are capped
   * all the same, and past the cap a label set is resolved through the series maps each time.
   * A tuple any of whose series is an overflow series is not remembered (it is resolved again
   * for each recording, so that each one is counted as overflowed).
   */
  private readonly requestSeries = new TupleIndex(2);
  private readonly finishedSeries = new TupleIndex();
  private readonly inFlightSeries = new TupleIndex();
  private readonly eventSeries = new TupleIndex();

  constructor(options: InstrumentsOptions = {}) {
    this.warn = options.warn ?? toStderr;
    this.overflows = new Counter({
      name: SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL,
      description: "Recordings that went to a metric's otel_metric_overflow series, by metric",
      labelNames: ['metric'],
      cardinalityLimit: METRIC_NAMES.length + 1,
    });
    const view = (name: MetricName) => {
      const merged: MetricView = {
        cardinalityLimit: options.cardinalityLimit,
        ...options.views?.[name],
      };
      const limit = merged.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
      const kind = METRIC_INSTRUMENTS[name].type;
      return { ...merged, onOverflow: this.overflowHook(name, kind, limit) };
    };
    this.httpRequests = new Counter({
      name: HTTP_REQUESTS_TOTAL,
      description: 'Total number of HTTP requests',
      labelNames: METRIC_LABELS[HTTP_REQUESTS_TOTAL],
      indexLabel: 'path',
      ...view(HTTP_REQUESTS_TOTAL),
    });
    const duration = view(HTTP_REQUEST_DURATION_SECONDS);
    this.httpDuration = new Histogram({
      name: HTTP_REQUEST_DURATION_SECONDS,
      description: 'HTTP request duration in seconds',
      unit: 's',
      labelNames: METRIC_LABELS[HTTP_REQUEST_DURATION_SECONDS],
      indexLabel: 'path',
      boundaries: DEFAULT_BUCKETS,
      ...duration,
      // entity_type only when asked for, whatever a view keeps.
      attributeKeys: (
        duration.attributeKeys ?? METRIC_LABELS[HTTP_REQUEST_DURATION_SECONDS]
      ).filter((label) => label !== 'entity_type' || options.durationEntityType === true),
    });
    this.events = new Counter({
      name: SCANOPY_EVENTS_TOTAL,
      description: 'Total number of events published on the event bus',
      labelNames: METRIC_LABELS[SCANOPY_EVENTS_TOTAL],
      ...view(SCANOPY_EVENTS_TOTAL),
    });
    this.httpInFlight = new Gauge({
      name: HTTP_REQUESTS_IN_FLIGHT,
      description: 'Number of HTTP requests in flight',
      labelNames: METRIC_LABELS[HTTP_REQUESTS_IN_FLIGHT],
      ...view(HTTP_REQUESTS_IN_FLIGHT),
    });
    this.httpRequestSize = new Histogram({
      name: HTTP_REQUEST_SIZE_BYTES,
      description: 'HTTP request body size in bytes',
      unit: 'By',
      labelNames: METRIC_LABELS[HTTP_REQUEST_SIZE_BYTES],
      indexLabel: 'path',
      boundaries: SIZE_BUCKETS,
      ...view(HTTP_REQUEST_SIZE_BYTES),
    });
    this.httpResponseSize = new Histogram({
      name: HTTP_RESPONSE_SIZE_BYTES,
      description: 'HTTP response body size in bytes',
      unit: 'By',
      labelNames: METRIC_LABELS[HTTP_RESPONSE_SIZE_BYTES],
      indexLabel: 'path',
      boundaries: SIZE_BUCKETS,
      ...view(HTTP_RESPONSE_SIZE_BYTES),
    });
    this.scrapes = new Counter({
      name: SCANOPY_METRICS_SCRAPES_TOTAL,
      description: 'Answers of the metrics route, by HTTP status code',
      labelNames: ['code'],
    });
    this.scrapeDuration = new Histogram({
      name: SCANOPY_METRICS_SCRAPE_DURATION_SECONDS,
      description: 'Time to produce a 200 answer of the metrics route, in seconds',
      unit: 's',
      labelNames: [],
      boundaries: DEFAULT_BUCKETS,
    });
    this.refreshTracing();
    // The host registers its tracer provider after the preload ran, in its main module.
    setImmediate(() => this.refreshTracing()).unref();
  }

  /** Looks again whether the host has a tracer provider (at start and at every scrape). */
  refreshTracing(): void {
    this.exemplars = tracerRegistered();
  }

  /** Counts one answer of the metrics route; `seconds` is how long a 200 took to produce. */
  recordScrape(status: number, seconds?: number): void {
    this.scrapes.add([String(status)]);
    if (seconds !== undefined) this.scrapeDuration.record([], seconds);
  }

  /**
   * Counts a metric's overflowed recordings in `scanopy_metrics_series_overflow_total`, and says
   * on stderr, once, that the metric reached its limit: past it label sets merge into one series
   * (nothing is dropped), which a dashboard cannot tell apart from a quiet service.
   */
  private overflowHook(metric: MetricName, kind: InstrumentKind, limit: number) {
    const series = this.overflows.seriesFor([metric]);
    let warned = false;
    return (): void => {
      series.value++;
      if (warned) return;
      warned = true;
      this.warn(overflowWarning(metric, kind, limit));
    };
  }

  /**
   * Counts `http_requests_total` and observes `http_request_duration_seconds`, nothing else.
   * Labels must already be folded (labels/http-labels.ts).
   */
  recordRequest(
    method: string,
    path: string,
    status: string,
    entityType: string,
    seconds: number,
  ): void {
    // The path first: it is the label that varies most.
    const cache = this.requestSeries;
    let count: CounterSeries;
    let duration: HistogramSeries;
    if (cache.find(path, method, status, entityType)) {
      count = cache.value(0) as CounterSeries;
      duration = cache.value(1) as HistogramSeries;
    } else {
      count = this.httpRequests.seriesOf(method, path, status, entityType);
      duration = this.httpDuration.seriesOf(method, path, entityType);
      // An overflowed tuple is resolved again each time, so that each recording is counted.
      if (
        cache.size < MAX_CACHED_LABEL_SETS &&
        !this.httpRequests.isOverflow(count) &&
        !this.httpDuration.isOverflow(duration)
      ) {
        cache.add(count, duration, path, method, status, entityType);
      }
    }
    count.value++;
    const bucket = this.httpDuration.recordIn(duration, seconds);
    if (this.exemplars) offerExemplar(duration, bucket, seconds);
  }

  /**
   * A request arrived: `http_requests_in_flight` goes up on its series, which is returned so
   * that the caller takes it down on the same one (`series.value--`), once. An overflow series
   * is returned like any other: what went up on it comes down on it.
   */
  requestArrived(method: string, entityType: string): GaugeSeries {
    const cache = this.inFlightSeries;
    let series: GaugeSeries;
    if (cache.find(method, entityType)) {
      series = cache.value() as GaugeSeries;
    } else {
      series = this.httpInFlight.seriesOf(method, entityType);
      if (cache.size < MAX_CACHED_LABEL_SETS && !this.httpInFlight.isOverflow(series)) {
        cache.add(series, undefined, method, entityType);
      }
    }
    series.value++;
    return series;
  }

  /**
   * A response was sent or its client left: counts the request, observes its duration and its
   * response body size, and returns its series for `recordRequestBody`, once the request body
   * is known. Labels must already be folded.
   */
  requestFinished(
    method: string,
    path: string,
    status: string,
    entityType: string,
    seconds: number,
    responseBytes: number,
  ): RequestSeries {
    // The path first: it is the label that varies most.
    const cache = this.finishedSeries;
    let series: RequestSeries;
    if (cache.find(path, method, status, entityType)) {
      series = cache.value() as RequestSeries;
    } else {
      series = {
        count: this.httpRequests.seriesOf(method, path, status, entityType),
        duration: this.httpDuration.seriesOf(method, path, entityType),
        requestSize: this.httpRequestSize.seriesOf(method, path),
        responseSize: this.httpResponseSize.seriesOf(method, path),
      };
      if (
        cache.size < MAX_CACHED_LABEL_SETS &&
        !this.httpRequests.isOverflow(series.count) &&
        !this.httpDuration.isOverflow(series.duration) &&
        !this.httpRequestSize.isOverflow(series.requestSize) &&
        !this.httpResponseSize.isOverflow(series.responseSize)
      ) {
        cache.add(series, undefined, path, method, status, entityType);
      }
    }
    series.count.value++;
    const bucket = this.httpDuration.recordIn(series.duration, seconds);
    if (this.exemplars) offerExemplar(series.duration, bucket, seconds);
    this.httpResponseSize.recordIn(series.responseSize, responseBytes);
    return series;
  }

  /** Observes the request body size of a finished request. */
  recordRequestBody(series: RequestSeries, bytes: number): void {
    this.httpRequestSize.recordIn(series.requestSize, bytes);
  }

  recordEvent(entity: string, operation: string): void {
    const cache = this.eventSeries;
    let series: CounterSeries;
    if (cache.find(entity, operation)) {
      series = cache.value() as CounterSeries;
    } else {
      series = this.events.seriesOf(entity, operation);
      if (cache.size < MAX_CACHED_LABEL_SETS && !this.events.isOverflow(series)) {
        cache.add(series, undefined, entity, operation);
      }
    }
    series.value++;
  }

  get all(): readonly (Counter | Gauge | Histogram)[] {
    return [
      this.httpRequests,
      this.httpDuration,
      this.events,
      this.httpInFlight,
      this.httpRequestSize,
      this.httpResponseSize,
      this.overflows,
      this.scrapes,
      this.scrapeDuration,
    ];
  }
}
