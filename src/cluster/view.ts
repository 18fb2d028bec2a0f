// The cluster's total as metrics the serializer writes like the process's own.
import type { Attributes } from '@opentelemetry/api';
import { Sum, type SumSeries } from '../series/sum';
import { Histogram, type HistogramSeries } from '../series/histogram';
import type { Slicer } from './slices';
import {
  attributesByKey,
  attributesOf,
  type OwnMetric,
  type MetricSnapshot,
  type Snapshot,
} from './snapshot';

/** A counter or gauge of one total: its series are set from the total, never recorded. */
class TotalSum extends Sum {
  constructor(
    metric: MetricSnapshot,
    monotonic: boolean,
    readonly sums: ReadonlyMap<string, SumSeries>,
  ) {
    super(
      { name: metric.name, description: metric.description, unit: metric.unit, labelNames: [] },
      monotonic,
    );
  }

  override liveSeries(): Iterable<SumSeries> {
    return this.sums.values();
  }

  override seriesCount(): number {
    return this.sums.size;
  }
}

/** A histogram of one total. */
class TotalHistogram extends Histogram {
  constructor(
    metric: MetricSnapshot,
    readonly buckets: ReadonlyMap<string, HistogramSeries>,
  ) {
    super({
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      labelNames: [],
      boundaries: metric.boundaries ?? [],
    });
  }

  override liveSeries(): Iterable<HistogramSeries> {
    return this.buckets.values();
  }

  override seriesCount(): number {
    return this.buckets.size;
  }
}

type Total = TotalSum | TotalHistogram;

function sameBounds(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** What a metric name held in the last total: its kind, buckets and series. */
interface Previous {
  kind: MetricSnapshot['kind'];
  boundaries?: readonly number[];
  series: ReadonlyMap<string, SumSeries | HistogramSeries>;
}

/**
 * The cluster's total as metrics the serializer writes like the process's own. Each update makes
 * new metric and series objects and changes none it handed out before: a scrape still writing the
 * previous total (the serializer yields between slices) reads it whole, never half of the next.
 * The attributes objects live from one total to the next, so that the serializer's label text
 * cache (by attributes object) keeps working.
 */
export class TotalView {
  private previous = new Map<string, Previous>();

  /** `local`: the process's own metrics, whose attributes objects a total's new keys reuse. */
  constructor(private readonly local: () => readonly OwnMetric[] = () => []) {}

  /**
   * The metrics of `snapshot` (the parts of a metric, under one name, may come one after the
   * other), made in stretches that `slicer` cuts, with a turn of the event loop between them.
   */
  async update(snapshot: Snapshot, slicer?: Slicer): Promise<readonly (Sum | Histogram)[]> {
    const parts = new Map<string, MetricSnapshot[]>();
    for (const metric of snapshot.metrics) {
      const list = parts.get(metric.name);
      if (list === undefined) parts.set(metric.name, [metric]);
      else list.push(metric);
    }
    const metrics: Total[] = [];
    const next = new Map<string, Previous>();
    /** The own series' attributes by key, looked up once a key is new to the view. */
    let local: Map<string, Attributes> | undefined;
    for (const [name, list] of parts) {
      const first = list[0];
      const before = this.previous.get(name);
      const same =
        before !== undefined &&
        before.kind === first.kind &&
        sameBounds(before.boundaries, first.boundaries);
      const series = new Map<string, SumSeries | HistogramSeries>();
      for (const metric of list) {
        if (metric.kind !== first.kind || !sameBounds(metric.boundaries, first.boundaries))
          continue;
        const width = (first.boundaries?.length ?? 0) + 1;
        for (let i = 0; i < metric.keys.length; i++) {
          const key = metric.keys[i];
          let attributes = same ? before.series.get(key)?.attributes : undefined;
          if (attributes === undefined) {
            local ??= await attributesByKey(this.local(), slicer);
            attributes = local.get(key) ?? attributesOf(key);
          }
          series.set(
            key,
            first.kind === 'histogram'
              ? histogramSeries(metric, i, width, attributes)
              : {
                  attributes,
                  value: (metric.values ?? [])[i],
                },
          );
          if (slicer?.due()) await slicer.next();
        }
      }
      // A counter's or histogram's series never go (a total missing one is a worker's snapshot
      // not there yet); a gauge's can (its worker exited).
      if (same && first.kind !== 'gauge') {
        for (const [key, s] of before.series) if (!series.has(key)) series.set(key, s);
      }
      metrics.push(
        first.kind === 'histogram'
          ? new TotalHistogram(first, series as Map<string, HistogramSeries>)
          : new TotalSum(first, first.kind === 'counter', series as Map<string, SumSeries>),
      );
      next.set(name, { kind: first.kind, boundaries: first.boundaries, series });
    }
    this.previous = next;
    return metrics;
  }
}

function histogramSeries(
  metric: MetricSnapshot,
  i: number,
  width: number,
  attributes: Attributes,
): HistogramSeries {
  const all = metric.counts ?? [];
  const counts = all.slice(i * width, (i + 1) * width);
  let count = 0;
  for (const c of counts) count += c;
  return { attributes, counts, sum: (metric.sums ?? [])[i], count, min: Infinity, max: -Infinity };
}
