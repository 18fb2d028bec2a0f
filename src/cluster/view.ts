// The cluster's total as metrics the serializer writes like the process's own.
import type { Attributes } from '@opentelemetry/api';
import { Sum, type SumSeries } from '../series/sum';
import { Histogram, type HistogramSeries } from '../series/histogram';
import type { Slicer } from './slices';
import {
  attributesByKey,
  attributesOf,
  type KeptSnapshot,
  type MetricSnapshot,
  type Numbers,
  type OwnMetric,
} from './snapshot';

/**
 * One metric's series in one total, as columns: per series its attributes and its numbers (in
 * typed arrays, off the heap), and its place by key. A total is kept from one scrape to the next,
 * so it outlives the young generation: columns are a few arrays for it to promote, where an
 * object and a counts array per series were tens of thousands (milliseconds of copying).
 */
interface Columns {
  kind: MetricSnapshot['kind'];
  boundaries?: readonly number[];
  /** Per series, in order: its attributes. */
  attributes: Attributes[];
  /** Counters and gauges: one value per series; histograms: `width` counts per series. */
  numbers: Float64Array;
  /** Histograms: one sum per series. */
  sums: Float64Array;
  /** Per key, its series' place in the columns (in the same order). */
  at: Map<string, number>;
}

/** Counts per series of a histogram (its bounds and `+Inf`); 1 for one value per series. */
function widthOf(kind: MetricSnapshot['kind'], boundaries: readonly number[] | undefined): number {
  return kind === 'histogram' ? (boundaries?.length ?? 0) + 1 : 1;
}

/** A counter or gauge of one total: its series are set from the total, never recorded. */
class TotalSum extends Sum {
  constructor(
    metric: MetricSnapshot<Numbers>,
    monotonic: boolean,
    readonly columns: Columns,
  ) {
    super(
      { name: metric.name, description: metric.description, unit: metric.unit, labelNames: [] },
      monotonic,
    );
  }

  /** A new object per series, read from the columns: the serializer's garbage, not kept. */
  override *liveSeries(): Iterable<SumSeries> {
    const { attributes, numbers } = this.columns;
    for (let i = 0; i < attributes.length; i++)
      yield { attributes: attributes[i], value: numbers[i] };
  }

  override seriesCount(): number {
    return this.columns.attributes.length;
  }
}

/** A histogram of one total. */
class TotalHistogram extends Histogram {
  constructor(
    metric: MetricSnapshot<Numbers>,
    readonly columns: Columns,
  ) {
    super({
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      labelNames: [],
      boundaries: metric.boundaries ?? [],
    });
  }

  override *liveSeries(): Iterable<HistogramSeries> {
    const { attributes, numbers, sums } = this.columns;
    const width = this.boundaries.length + 1;
    for (let i = 0; i < attributes.length; i++) {
      const counts = new Array<number>(width);
      let count = 0;
      for (let b = 0; b < width; b++) count += counts[b] = numbers[i * width + b];
      yield {
        attributes: attributes[i],
        counts,
        sum: sums[i],
        count,
        min: Infinity,
        max: -Infinity,
      };
    }
  }

  override seriesCount(): number {
    return this.columns.attributes.length;
  }
}

type Total = TotalSum | TotalHistogram;

function sameBounds(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * The cluster's total as metrics the serializer writes like the process's own. Each update makes
 * new metric objects and columns and changes none it handed out before: a scrape still writing
 * the previous total (the serializer yields between slices) reads it whole, never half of the
 * next. The attributes objects live from one total to the next, so that the serializer's label
 * text cache (by attributes object) keeps working.
 */
export class TotalView {
  private previous = new Map<string, Columns>();

  /** `local`: the process's own metrics, whose attributes objects a total's new keys reuse. */
  constructor(private readonly local: () => readonly OwnMetric[] = () => []) {}

  /**
   * The metrics of `snapshot` (the parts of a metric, under one name, may come one after the
   * other), made in stretches that `slicer` cuts, with a turn of the event loop between them.
   */
  async update(snapshot: KeptSnapshot, slicer?: Slicer): Promise<readonly (Sum | Histogram)[]> {
    const parts = new Map<string, MetricSnapshot<Numbers>[]>();
    for (const metric of snapshot.metrics) {
      const list = parts.get(metric.name);
      if (list === undefined) parts.set(metric.name, [metric]);
      else list.push(metric);
    }
    const metrics: Total[] = [];
    const next = new Map<string, Columns>();
    /** The own series' attributes by key, looked up once a key is new to the view. */
    let local: Map<string, Attributes> | undefined;
    for (const [name, list] of parts) {
      const first = list[0];
      const before = this.previous.get(name);
      const same =
        before !== undefined &&
        before.kind === first.kind &&
        sameBounds(before.boundaries, first.boundaries);
      const width = widthOf(first.kind, first.boundaries);
      const histogram = first.kind === 'histogram';
      // A counter's or histogram's series never go (a total missing one is a worker's snapshot
      // not there yet); a gauge's can (its worker exited).
      const carried = same && first.kind !== 'gauge' ? before : undefined;
      let room = carried?.attributes.length ?? 0;
      for (const metric of list) room += metric.keys.length;
      const columns: Columns = {
        kind: first.kind,
        boundaries: first.boundaries,
        attributes: [],
        numbers: new Float64Array(room * width),
        sums: new Float64Array(histogram ? room : 0),
        at: new Map(),
      };
      for (const metric of list) {
        if (metric.kind !== first.kind || !sameBounds(metric.boundaries, first.boundaries))
          continue;
        const numbers = (histogram ? metric.counts : metric.values) ?? [];
        const sums = metric.sums ?? [];
        for (let i = 0; i < metric.keys.length; i++) {
          const key = metric.keys[i];
          let n = columns.at.get(key);
          if (n === undefined) {
            let attributes = same ? before.attributes[before.at.get(key) ?? -1] : undefined;
            if (attributes === undefined) {
              local ??= await attributesByKey(this.local(), slicer);
              attributes = local.get(key) ?? attributesOf(key);
            }
            n = columns.attributes.length;
            columns.at.set(key, n);
            columns.attributes.push(attributes);
          }
          for (let b = 0; b < width; b++) columns.numbers[n * width + b] = numbers[i * width + b];
          if (histogram) columns.sums[n] = sums[i];
          if (slicer?.due()) await slicer.next();
        }
      }
      if (carried !== undefined) {
        for (const [key, c] of carried.at) {
          if (columns.at.has(key)) continue;
          const n = columns.attributes.length;
          columns.at.set(key, n);
          columns.attributes.push(carried.attributes[c]);
          for (let b = 0; b < width; b++)
            columns.numbers[n * width + b] = carried.numbers[c * width + b];
          if (histogram) columns.sums[n] = carried.sums[c];
          if (slicer?.due()) await slicer.next();
        }
      }
      metrics.push(
        histogram
          ? new TotalHistogram(first, columns)
          : new TotalSum(first, first.kind === 'counter', columns),
      );
      next.set(name, columns);
    }
    this.previous = next;
    return metrics;
  }
}
