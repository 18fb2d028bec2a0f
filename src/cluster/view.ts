// The cluster's total as metrics the serializer writes like the process's own.
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { Counter, descriptorOf, type CounterSeries } from '../series/counter';
import { Histogram, type HistogramSeries } from '../series/histogram';
import type { MetricHeader } from '../series/metric-header';
import { attributesOf, type MetricSnapshot, type OwnMetric, type Snapshot } from './snapshot';

/** A counter or gauge whose series are set from the cluster's total, not recorded. */
class TotalSum extends Counter {
  readonly sums = new Map<string, CounterSeries>();

  constructor(
    metric: MetricSnapshot,
    private readonly monotonic: boolean,
  ) {
    super({
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      labelNames: [],
    });
  }

  update(metric: MetricSnapshot): void {
    const values = metric.values ?? [];
    const seen = new Set<string>();
    for (let i = 0; i < metric.keys.length; i++) {
      const key = metric.keys[i];
      seen.add(key);
      let s = this.sums.get(key);
      if (s === undefined) {
        s = { attributes: attributesOf(key), value: 0 };
        this.sums.set(key, s);
      }
      s.value = values[i];
    }
    // A gauge's series can go (its worker exited); a counter's never do.
    for (const key of this.sums.keys()) if (!seen.has(key)) this.sums.delete(key);
  }

  override header(): MetricHeader {
    return {
      descriptor: descriptorOf(this.definition),
      dataPointType: DataPointType.SUM,
      isMonotonic: this.monotonic,
    };
  }

  override liveSeries(): Iterable<CounterSeries> {
    return this.sums.values();
  }
}

class TotalHistogram extends Histogram {
  readonly buckets = new Map<string, HistogramSeries>();

  constructor(metric: MetricSnapshot) {
    super({
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      labelNames: [],
      boundaries: metric.boundaries ?? [],
    });
  }

  update(metric: MetricSnapshot): void {
    const width = this.boundaries.length + 1;
    const counts = metric.counts ?? [];
    const sums = metric.sums ?? [];
    for (let i = 0; i < metric.keys.length; i++) {
      const key = metric.keys[i];
      let s = this.buckets.get(key);
      if (s === undefined) {
        s = {
          attributes: attributesOf(key),
          counts: new Array<number>(width).fill(0),
          sum: 0,
          count: 0,
          min: Infinity,
          max: -Infinity,
        };
        this.buckets.set(key, s);
      }
      let count = 0;
      for (let b = 0; b < width; b++) count += s.counts[b] = counts[i * width + b];
      s.count = count;
      s.sum = sums[i];
    }
  }

  override liveSeries(): Iterable<HistogramSeries> {
    return this.buckets.values();
  }
}

type Total = TotalSum | TotalHistogram;

function fits(total: Total, metric: MetricSnapshot): boolean {
  if (total instanceof TotalHistogram) {
    const bounds = metric.boundaries ?? [];
    return (
      metric.kind === 'histogram' &&
      bounds.length === total.boundaries.length &&
      bounds.every((b, i) => b === total.boundaries[i])
    );
  }
  return metric.kind !== 'histogram' && (metric.kind === 'counter') === total.header().isMonotonic;
}

/**
 * The cluster's total as metrics the serializer writes like the process's own. The series objects
 * live from one scrape to the next, so the serializer's label text cache (by attributes object)
 * keeps working.
 */
export class TotalView {
  private readonly totals = new Map<string, Total>();

  update(snapshot: Snapshot): readonly OwnMetric[] {
    const metrics: OwnMetric[] = [];
    for (const metric of snapshot.metrics) {
      let total = this.totals.get(metric.name);
      if (total === undefined || !fits(total, metric)) {
        total =
          metric.kind === 'histogram'
            ? new TotalHistogram(metric)
            : new TotalSum(metric, metric.kind === 'counter');
        this.totals.set(metric.name, total);
      }
      total.update(metric);
      metrics.push(total);
    }
    return metrics;
  }
}
