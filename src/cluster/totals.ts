// Sums of snapshots, series by series.
import { OVERFLOW_ATTRIBUTES } from '../series/series-map';
import {
  labelKey,
  PART_SERIES,
  type KeptSnapshot,
  type MetricSnapshot,
  type Numbers,
  type Snapshot,
} from './snapshot';
import type { Slicer } from './slices';

interface Sum {
  kind: 'counter' | 'gauge';
  values: Map<string, number>;
}

interface Buckets {
  kind: 'histogram';
  boundaries: number[];
  /** Per key: where its bucket counts, then its sum, start in `data`. */
  values: Map<string, number>;
  /**
   * Every series' counts and sum, `boundaries.length + 2` numbers each, one series after the
   * other: one array off the heap rather than an array per series, which the young generation's
   * collections would copy (and promote) at every gather.
   */
  data: Float64Array;
}

/** Numbers per series in a histogram's `data`: its buckets (bounds and `+Inf`), then its sum. */
function stride(into: Buckets): number {
  return into.boundaries.length + 2;
}

/** Where a new series of `into` starts in its `data`, growing the array when it is full. */
function place(into: Buckets, key: string): number {
  const at = into.values.size * stride(into);
  if (at + stride(into) > into.data.length) {
    const grown = new Float64Array(Math.max(2 * into.data.length, 64 * stride(into)));
    grown.set(into.data);
    into.data = grown;
  }
  into.values.set(key, at);
  return at;
}

/** The overflow series' key, as a worker's snapshot names it. */
const OVERFLOW_KEY = labelKey(
  Object.fromEntries(Object.entries(OVERFLOW_ATTRIBUTES).map(([k, v]) => [k, String(v)])),
);

type Accumulated = (Sum | Buckets) & { name: string; description: string; unit: string };

/** What could not be added exactly, by metric name: for a self-metric and one line on stderr. */
export interface Mismatches {
  /** Histograms whose workers' buckets differ: summed on the bounds they all have. */
  rebucketed: Set<string>;
  /** Series of a metric whose kind differs from the first seen under its name, left out. */
  unmerged: Map<string, number>;
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The bounds both lists have, in order. */
function commonBounds(a: readonly number[], b: readonly number[]): number[] {
  const inB = new Set(b);
  return a.filter((v) => inB.has(v));
}

/**
 * For each bucket of `from` (its bounds, then `+Inf`), the bucket of `to` it falls in, where `to`
 * holds only bounds of `from`: a count at or below a bound of `to` is in that bucket exactly.
 */
function bucketMap(from: readonly number[], to: readonly number[]): number[] {
  const map: number[] = [];
  let j = 0;
  for (let b = 0; b < from.length; b++) {
    while (j < to.length && to[j] < from[b]) j++;
    map.push(j);
  }
  map.push(to.length);
  return map;
}

/**
 * Sums of snapshots, series by series (same metric name and labels). Metrics keep the order in
 * which they were first seen. Histograms whose buckets differ between workers (a worker started
 * with another configuration) are summed exactly on the bounds they have in common (their counts,
 * sums and the buckets at those bounds stay exact; the resolution is what is lost), and
 * `mismatches` says so. A metric of another kind than the first one seen under its name cannot be
 * added: its series are counted in `mismatches`, never silently left out.
 */
export class Totals {
  private readonly metrics = new Map<string, Accumulated>();
  readonly mismatches: Mismatches = { rebucketed: new Set(), unmerged: new Map() };

  /**
   * `limit`, when given: most series kept per metric name; the values of further label sets are
   * added to the metric's overflow series (as OTel's cardinality limit does), so that a total
   * kept for long holds bounded memory whatever label sets come and go. `served`: the label sets
   * kept whatever the limit, those a scrape has served already, whose counters would otherwise
   * go backwards (and be counted twice, in the overflow series and where a scrape's view keeps
   * a counter that went missing).
   */
  constructor(
    private readonly limit?: (name: string) => number,
    private readonly served?: (name: string, key: string) => boolean,
  ) {}

  /** Adds `snapshot`; `monotonicOnly` leaves out gauges (a gone worker's gauge is no longer true). */
  add(snapshot: KeptSnapshot, monotonicOnly = false): this {
    for (const metric of snapshot.metrics) {
      if (monotonicOnly && metric.kind === 'gauge') continue;
      const target = this.into(metric);
      if (target === undefined) continue;
      for (let i = 0; i < metric.keys.length; i++) {
        addSeries(target.into, metric, i, target.map, this.keyFor(target.into, metric.keys[i]));
      }
    }
    return this;
  }

  /** `add`, in stretches that `slicer` cuts, with a turn of the event loop between them. */
  async addSliced(snapshot: KeptSnapshot, slicer: Slicer, monotonicOnly = false): Promise<this> {
    for (const metric of snapshot.metrics) {
      if (monotonicOnly && metric.kind === 'gauge') continue;
      const target = this.into(metric);
      if (target === undefined) continue;
      for (let i = 0; i < metric.keys.length; i++) {
        addSeries(target.into, metric, i, target.map, this.keyFor(target.into, metric.keys[i]));
        if (slicer.due()) await slicer.next();
      }
    }
    return this;
  }

  /** `key`, or the overflow series' key once the metric holds `limit` series (unless served). */
  private keyFor(into: Accumulated, key: string): string {
    if (this.limit === undefined || into.values.has(key)) return key;
    if (into.values.size < this.limit(into.name) - 1) return key;
    return this.served?.(into.name, key) === true ? key : OVERFLOW_KEY;
  }

  /** Whether the total has a series of metric `name` under `key`. */
  has(name: string, key: string): boolean {
    return this.metrics.get(name)?.values.has(key) === true;
  }

  /** How many series the total holds (what a kept total costs in memory). */
  get size(): number {
    let n = 0;
    for (const m of this.metrics.values()) n += m.values.size;
    return n;
  }

  /**
   * The accumulator of `metric`'s name, and for a histogram of other buckets the map of its
   * buckets onto the accumulator's; undefined when `metric` cannot be added to it.
   */
  private into(metric: MetricSnapshot<Numbers>): { into: Accumulated; map?: number[] } | undefined {
    let into = this.metrics.get(metric.name);
    if (into === undefined) {
      const base = { name: metric.name, description: metric.description, unit: metric.unit };
      into =
        metric.kind === 'histogram'
          ? {
              ...base,
              kind: 'histogram',
              boundaries: metric.boundaries ?? [],
              values: new Map(),
              data: new Float64Array(0),
            }
          : { ...base, kind: metric.kind, values: new Map() };
      this.metrics.set(metric.name, into);
    }
    if (into.kind !== metric.kind) {
      const { unmerged } = this.mismatches;
      unmerged.set(metric.name, (unmerged.get(metric.name) ?? 0) + metric.keys.length);
      return undefined;
    }
    if (into.kind !== 'histogram') return { into };
    const bounds = metric.boundaries ?? [];
    if (sameBounds(into.boundaries, bounds)) return { into };
    this.mismatches.rebucketed.add(metric.name);
    const common = commonBounds(into.boundaries, bounds);
    if (!sameBounds(common, into.boundaries)) rebucket(into, common);
    return { into, map: bucketMap(bounds, common) };
  }
  /** The whole total as one snapshot. */
  snapshot(): Snapshot {
    const metrics: MetricSnapshot[] = [];
    for (const part of this.parts(Infinity)) metrics.push(...part.metrics);
    return { metrics };
  }

  /** The total a part of at most `max` series at a time (a metric may span several parts). */
  *parts(max = PART_SERIES): Generator<Snapshot> {
    let metrics: MetricSnapshot[] = [];
    let room = max;
    for (const m of this.metrics.values()) {
      const base = { name: m.name, description: m.description, unit: m.unit };
      const width = m.kind === 'histogram' ? m.boundaries.length + 1 : 0;
      let part = startPart(m, base);
      for (const [key, value] of m.values) {
        if (room <= 0) {
          metrics.push(part);
          yield { metrics };
          metrics = [];
          room = max;
          part = startPart(m, base);
        }
        part.keys.push(key);
        if (m.kind !== 'histogram') {
          part.values!.push(value);
        } else {
          const data = m.data;
          for (let b = 0; b < width; b++) part.counts!.push(data[value + b]);
          part.sums!.push(data[value + width]);
        }
        room--;
      }
      metrics.push(part);
    }
    yield { metrics };
  }
}

function startPart(
  m: Accumulated,
  base: { name: string; description: string; unit: string },
): MetricSnapshot {
  return m.kind === 'histogram'
    ? { ...base, kind: 'histogram', boundaries: m.boundaries, keys: [], counts: [], sums: [] }
    : { ...base, kind: m.kind, keys: [], values: [] };
}

/** Moves every series of `into` onto `bounds` (bounds it already has), in place. */
function rebucket(into: Buckets, bounds: number[]): void {
  const map = bucketMap(into.boundaries, bounds);
  const width = into.boundaries.length + 1;
  const from = into.data;
  const moved = new Float64Array(into.values.size * (bounds.length + 2));
  let to = 0;
  for (const [key, at] of into.values) {
    for (let b = 0; b < width; b++) moved[to + map[b]] += from[at + b];
    moved[to + bounds.length + 1] = from[at + width];
    into.values.set(key, to);
    to += bounds.length + 2;
  }
  into.boundaries = bounds;
  into.data = moved;
}

/**
 * Adds series `i` of `metric` into `into` (of the same kind); `map` puts a histogram's buckets
 * onto `into`'s when they differ.
 */
function addSeries(
  into: Accumulated,
  metric: MetricSnapshot<Numbers>,
  i: number,
  map: number[] | undefined,
  key: string,
): void {
  if (into.kind === 'histogram') {
    const width = into.boundaries.length + 1;
    const from = map === undefined ? width : map.length;
    const counts = metric.counts ?? [];
    const at = into.values.get(key) ?? place(into, key);
    const data = into.data;
    if (map === undefined) {
      for (let b = 0; b < width; b++) data[at + b] += counts[i * width + b];
    } else {
      for (let b = 0; b < from; b++) data[at + map[b]] += counts[i * from + b];
    }
    data[at + width] += (metric.sums ?? [])[i];
  } else {
    into.values.set(key, (into.values.get(key) ?? 0) + (metric.values ?? [])[i]);
  }
}
