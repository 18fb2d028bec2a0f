// A process's own metrics as plain data that crosses the IPC channel.
import type { Attributes } from '@opentelemetry/api';
import { HISTOGRAM_POINTS, SUM_POINTS } from '../series/data-kinds';
import type { CounterSeries } from '../series/counter';
import type { MetricHeader } from '../series/metric-header';
import { Histogram, type HistogramSeries } from '../series/histogram';
import type { Slicer } from './slices';

/**
 * A process's metrics as plain data, small enough to cross the cluster's IPC channel as JSON:
 * per metric, its header and its series as parallel arrays. A series is named by its labels
 * (`key`), so that the same label set from several workers adds up. One metric may come in
 * several entries of the same name (a large snapshot sent in parts).
 */
export interface Snapshot<N extends Numbers = number[]> {
  metrics: MetricSnapshot<N>[];
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** A snapshot's numbers: plain arrays on the channel, typed arrays once a process keeps them. */
export type Numbers = ArrayLike<number>;

/** A snapshot as kept and summed: its numbers in plain or typed arrays. */
export type KeptSnapshot = Snapshot<Numbers>;

export interface MetricSnapshot<N extends Numbers = number[]> {
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  /** Histograms only: the upper bounds (the `+Inf` bucket is implied). */
  boundaries?: number[];
  keys: string[];
  /** Counters and gauges: one value per key. */
  values?: N;
  /** Histograms: `boundaries.length + 1` bucket counts per key, one key after the other. */
  counts?: N;
  /** Histograms: one sum per key. */
  sums?: N;
}

/**
 * `part`, as decoded from the channel, with its numbers in typed arrays: their contents live off
 * the heap, so that a part kept past its turn (a worker's last snapshot, a total being received)
 * is not copied by every young-generation collection until it is promoted, and the decoded
 * arrays die young.
 */
export function keptPart(part: MetricSnapshot): MetricSnapshot<Float64Array> {
  const { values, counts, sums, ...rest } = part;
  const kept: MetricSnapshot<Float64Array> = rest;
  if (values !== undefined) kept.values = new Float64Array(values);
  if (counts !== undefined) kept.counts = new Float64Array(counts);
  if (sums !== undefined) kept.sums = new Float64Array(sums);
  return kept;
}

/** A metric of the package's own that a snapshot reads: a histogram, or one value per series. */
export type OwnMetric =
  | Histogram
  | { header(): MetricHeader; liveSeries(): Iterable<{ attributes: Attributes; value: number }> };

const PAIR = '\u0002';
const NEXT = '\u0001';

/** The attributes of each series, as one string: `name\u0002value\u0001name\u0002value`. */
const keys = new WeakMap<Attributes, string>();

function keyOf(attributes: Attributes): string {
  let key = keys.get(attributes);
  if (key === undefined) {
    key = '';
    for (const [name, value] of Object.entries(attributes)) {
      if (key.length > 0) key += NEXT;
      key += name + PAIR + (typeof value === 'string' ? value : String(value));
    }
    keys.set(attributes, key);
  }
  return key;
}

/** The attributes a key was made from (every value a string, as the exposition writes them). */
export function attributesOf(key: string): Attributes {
  const attributes: Attributes = {};
  if (key === '') return attributes;
  for (const pair of key.split(NEXT)) {
    const at = pair.indexOf(PAIR);
    attributes[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return attributes;
}

/**
 * The attributes objects of `metrics`' series by key, where every value is a string (as those
 * `attributesOf` makes): a worker's total has the same label sets as the worker's own series
 * mostly, and taking their objects spares it making (and its young generation copying) tens of
 * thousands at its first scrape. Looks at `slicer` between series.
 */
export async function attributesByKey(
  metrics: readonly OwnMetric[],
  slicer?: Slicer,
): Promise<Map<string, Attributes>> {
  const found = new Map<string, Attributes>();
  for (const metric of metrics) {
    for (const s of metric.liveSeries() as Iterable<{ attributes: Attributes }>) {
      const attributes = s.attributes;
      let strings = true;
      for (const name in attributes) {
        if (typeof attributes[name] !== 'string') {
          strings = false;
          break;
        }
      }
      if (strings) found.set(keyOf(attributes), attributes);
      if (slicer?.due()) await slicer.next();
    }
  }
  return found;
}

export function kindOf(metric: OwnMetric): MetricKind {
  const header = metric.header();
  if (header.dataPointType === HISTOGRAM_POINTS) return 'histogram';
  return header.dataPointType === SUM_POINTS && header.isMonotonic === true ? 'counter' : 'gauge';
}

/** At most this many series go into one message over the IPC channel (about 100 KB of JSON). */
export const PART_SERIES = 1000;

/**
 * Reads the live series of `metrics` a part at a time: each `next()` is a snapshot of at most
 * `max` series (a metric with more is split over several parts, under its name), so that neither
 * this process nor the one that receives a part spends long on it. Each part walks on through the
 * metrics' series from where the previous part stopped (a metric's series are only ever appended,
 * so a series added meanwhile is in a later part), and reads their values when it is taken:
 * nothing is listed up front, which for tens of thousands of series would be a long stretch.
 */
export class SnapshotReader {
  private metricAt = 0;
  /** The series of `metrics[metricAt]` still to read, and the next one (read ahead for `done`). */
  private series: Iterator<unknown> | undefined;
  private ahead: IteratorResult<unknown> | undefined;

  constructor(private readonly metrics: readonly OwnMetric[]) {
    this.open();
  }

  get done(): boolean {
    return this.metricAt >= this.metrics.length;
  }

  next(max = PART_SERIES): Snapshot {
    const parts: MetricSnapshot[] = [];
    let room = max;
    while (room > 0 && !this.done) {
      const part = startRange(this.metrics[this.metricAt]);
      while (room > 0 && this.ahead?.done === false) {
        addToRange(part, this.ahead.value);
        room--;
        this.ahead = this.series!.next();
      }
      parts.push(part);
      if (this.ahead?.done !== false) {
        this.metricAt++;
        this.open();
      }
    }
    return { metrics: parts };
  }

  /** Starts on the series of `metrics[metricAt]` (a metric without any gives an empty part). */
  private open(): void {
    if (this.done) {
      this.series = undefined;
      this.ahead = undefined;
      return;
    }
    this.series = this.metrics[this.metricAt].liveSeries()[Symbol.iterator]();
    this.ahead = this.series.next();
  }
}

/** A part of `metric`, to be filled with series. */
function startRange(metric: OwnMetric): MetricSnapshot {
  const { descriptor } = metric.header();
  const base = {
    name: descriptor.name,
    description: descriptor.description,
    unit: descriptor.unit,
    kind: kindOf(metric),
    keys: [],
  };
  return metric instanceof Histogram
    ? { ...base, boundaries: [...metric.boundaries], counts: [], sums: [] }
    : { ...base, values: [] };
}

/** Adds series `s` (of the part's metric) to `part`. */
function addToRange(part: MetricSnapshot, s: unknown): void {
  if (part.counts !== undefined) {
    const h = s as HistogramSeries;
    part.keys.push(keyOf(h.attributes));
    for (const c of h.counts) part.counts.push(c);
    part.sums!.push(h.sum);
    return;
  }
  const c = s as CounterSeries;
  part.keys.push(keyOf(c.attributes));
  part.values!.push(c.value);
}

/** Reads the live series of `metrics` into one snapshot. */
export function takeSnapshot(metrics: readonly OwnMetric[]): Snapshot {
  return new SnapshotReader(metrics).next(Infinity);
}

/** The key of a label set given as an object (for the metrics the cluster adds itself). */
export function labelKey(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => name + PAIR + value)
    .join(NEXT);
}
