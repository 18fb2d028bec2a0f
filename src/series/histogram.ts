// A histogram: bucket counts, sum and count, one set per label set.
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { CUMULATIVE, HISTOGRAM_POINTS } from './data-kinds';
import { descriptorOf, type MetricDefinition } from './sum';
import type { MetricHeader } from './metric-header';
import { SeriesMap, type Series } from './series-map';

/** Prometheus's default buckets, in seconds (OTel's defaults are meant for milliseconds). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface HistogramDefinition extends MetricDefinition {
  /** Upper bounds, strictly increasing; the `+Inf` bucket is implied. */
  boundaries?: readonly number[];
}

/** A recent sampled measurement of a bucket, and its trace (OpenMetrics exemplar). */
export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Milliseconds since the epoch. */
  timeMs: number;
}

export interface HistogramSeries extends Series {
  /** One count per boundary, plus the `+Inf` bucket; not cumulative. */
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
  /** One slot per bucket, created on the first exemplar (only while tracing is on). */
  exemplars?: (Exemplar | undefined)[];
}

/** An explicit-bucket histogram with bounded label sets, collected as OTel `HistogramMetricData`. */
export class Histogram {
  readonly boundaries: readonly number[];
  private readonly series: SeriesMap<HistogramSeries>;

  constructor(readonly definition: HistogramDefinition) {
    const boundaries = (this.boundaries = Object.freeze([
      ...(definition.boundaries ?? DEFAULT_BUCKETS),
    ]));
    this.series = new SeriesMap(definition, (attributes: Attributes) => ({
      attributes,
      counts: new Array<number>(boundaries.length + 1).fill(0),
      sum: 0,
      count: 0,
      min: Infinity,
      max: -Infinity,
    }));
  }

  record(values: readonly string[], value: number): void {
    this.recordIn(this.series.get(values), value);
  }

  /**
   * The series of a label set, for `recordIn` on a hot path. An overflow series (`isOverflow`) is
   * not to be kept: `seriesFor` again for each recording, so that every one is counted.
   */
  seriesFor(values: readonly string[]): HistogramSeries {
    return this.series.get(values);
  }

  /** `seriesFor` with up to four label values passed one by one: nothing allocated. */
  seriesOf(v0?: string, v1?: string, v2?: string, v3?: string): HistogramSeries {
    return this.series.getOf(v0, v1, v2, v3);
  }

  isOverflow(series: HistogramSeries): boolean {
    return this.series.isOverflow(series);
  }

  /** Records `value` in `s`; returns the index of its bucket. */
  recordIn(s: HistogramSeries, value: number): number {
    const bounds = this.boundaries;
    // Linear scan: with a dozen buckets it beats a binary search.
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    return i;
  }

  /** What the exposition's header needs: name, description, unit, type. */
  header(): MetricHeader {
    return { descriptor: descriptorOf(this.definition), dataPointType: HISTOGRAM_POINTS };
  }

  /** The live series, for the serializer: read each one at once, values move on. */
  liveSeries(): Iterable<HistogramSeries> {
    return this.series;
  }

  /** How many series `liveSeries()` holds (what the serializer sizes a first scrape by). */
  seriesCount(): number {
    return this.series.size;
  }

  collect(startTime: HrTime, endTime: HrTime): HistogramMetricData {
    const dataPoints = [];
    for (const s of this.series) {
      dataPoints.push({
        attributes: s.attributes,
        startTime,
        endTime,
        value: {
          // One boundaries array for every point: the serializer caches its `le` labels by identity.
          buckets: { boundaries: this.boundaries as number[], counts: s.counts.slice() },
          sum: s.sum,
          count: s.count,
          min: s.min,
          max: s.max,
        },
      });
    }
    return {
      descriptor: descriptorOf(this.definition),
      aggregationTemporality: CUMULATIVE,
      dataPointType: HISTOGRAM_POINTS,
      dataPoints,
    };
  }
}
