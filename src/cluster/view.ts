// The cluster's total as metrics the serializer writes like the process's own.
import { SUM_POINTS } from '../series/data-kinds';
import { Counter, descriptorOf, type CounterSeries } from '../series/counter';
import { Histogram, type HistogramSeries } from '../series/histogram';
import type { MetricHeader } from '../series/metric-header';
import type { Slicer } from './slices';
import { attributesOf, type MetricSnapshot, type Snapshot } from './snapshot';

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

  private seen = new Set<string>();

  begin(): void {
    this.seen = new Set();
  }

  apply(metric: MetricSnapshot, i: number): void {
    const key = metric.keys[i];
    this.seen.add(key);
    let s = this.sums.get(key);
    if (s === undefined) {
      s = { attributes: attributesOf(key), value: 0 };
      this.sums.set(key, s);
    }
    s.value = (metric.values ?? [])[i];
  }

  /** A gauge's series can go (its worker exited); a counter's never do. */
  end(): void {
    for (const key of this.sums.keys()) if (!this.seen.has(key)) this.sums.delete(key);
  }

  override header(): MetricHeader {
    return {
      descriptor: descriptorOf(this.definition),
      dataPointType: SUM_POINTS,
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

  begin(): void {}

  apply(metric: MetricSnapshot, i: number): void {
    const width = this.boundaries.length + 1;
    const counts = metric.counts ?? [];
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
    s.sum = (metric.sums ?? [])[i];
  }

  end(): void {}

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

  /**
   * Sets the view from `snapshot` (the parts of a metric, under one name, may come one after the
   * other), in stretches that `slicer` cuts, with a turn of the event loop between them.
   */
  async update(snapshot: Snapshot, slicer?: Slicer): Promise<readonly (Counter | Histogram)[]> {
    const parts = new Map<string, MetricSnapshot[]>();
    for (const metric of snapshot.metrics) {
      const list = parts.get(metric.name);
      if (list === undefined) parts.set(metric.name, [metric]);
      else list.push(metric);
    }
    const metrics: (Counter | Histogram)[] = [];
    for (const [name, list] of parts) {
      let total = this.totals.get(name);
      if (total === undefined || !fits(total, list[0])) {
        total =
          list[0].kind === 'histogram'
            ? new TotalHistogram(list[0])
            : new TotalSum(list[0], list[0].kind === 'counter');
        this.totals.set(name, total);
      }
      total.begin();
      for (const metric of list) {
        if (!fits(total, metric)) continue;
        for (let i = 0; i < metric.keys.length; i++) {
          total.apply(metric, i);
          if (slicer?.due()) await slicer.next();
        }
      }
      total.end();
      metrics.push(total);
    }
    return metrics;
  }
}
