// Sums of snapshots, series by series.
import { PART_SERIES, type MetricSnapshot, type Snapshot } from './snapshot';
import type { Slicer } from './slices';

interface Sum {
  kind: 'counter' | 'gauge';
  values: Map<string, number>;
}

interface Buckets {
  kind: 'histogram';
  boundaries: number[];
  /** Per key: the bucket counts, then the sum, in one array. */
  values: Map<string, number[]>;
}

type Accumulated = (Sum | Buckets) & { name: string; description: string; unit: string };

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Sums of snapshots, series by series (same metric name and labels). Metrics keep the order in
 * which they were first seen. A histogram whose buckets differ from the first one seen under its
 * name (workers configured differently) cannot be added and is left out of the sum.
 */
export class Totals {
  private readonly metrics = new Map<string, Accumulated>();

  /** Adds `snapshot`; `monotonicOnly` leaves out gauges (a gone worker's gauge is no longer true). */
  add(snapshot: Snapshot, monotonicOnly = false): this {
    for (const metric of snapshot.metrics) {
      if (monotonicOnly && metric.kind === 'gauge') continue;
      const into = this.into(metric);
      if (into !== undefined)
        for (let i = 0; i < metric.keys.length; i++) addSeries(into, metric, i);
    }
    return this;
  }

  /** `add`, in stretches that `slicer` cuts, with a turn of the event loop between them. */
  async addSliced(snapshot: Snapshot, slicer: Slicer, monotonicOnly = false): Promise<this> {
    for (const metric of snapshot.metrics) {
      if (monotonicOnly && metric.kind === 'gauge') continue;
      const into = this.into(metric);
      if (into === undefined) continue;
      for (let i = 0; i < metric.keys.length; i++) {
        addSeries(into, metric, i);
        if (slicer.due()) await slicer.next();
      }
    }
    return this;
  }

  /** The accumulator of `metric`'s name, unless `metric` cannot be added to it. */
  private into(metric: MetricSnapshot): Accumulated | undefined {
    let into = this.metrics.get(metric.name);
    if (into === undefined) {
      const base = { name: metric.name, description: metric.description, unit: metric.unit };
      into =
        metric.kind === 'histogram'
          ? { ...base, kind: 'histogram', boundaries: metric.boundaries ?? [], values: new Map() }
          : { ...base, kind: metric.kind, values: new Map() };
      this.metrics.set(metric.name, into);
    }
    if (into.kind !== metric.kind) return undefined;
    if (into.kind === 'histogram' && !sameBounds(into.boundaries, metric.boundaries ?? [])) {
      return undefined;
    }
    return into;
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
      for (const [key, value] of m.values as Map<string, number | number[]>) {
        if (room <= 0) {
          metrics.push(part);
          yield { metrics };
          metrics = [];
          room = max;
          part = startPart(m, base);
        }
        part.keys.push(key);
        if (typeof value === 'number') {
          part.values!.push(value);
        } else {
          for (let b = 0; b < width; b++) part.counts!.push(value[b]);
          part.sums!.push(value[width]);
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

/** Adds series `i` of `metric` into `into` (of the same kind and buckets). */
function addSeries(into: Accumulated, metric: MetricSnapshot, i: number): void {
  const key = metric.keys[i];
  if (into.kind === 'histogram') {
    const width = into.boundaries.length + 1;
    const counts = metric.counts ?? [];
    let acc = into.values.get(key);
    if (acc === undefined) {
      acc = new Array<number>(width + 1).fill(0);
      into.values.set(key, acc);
    }
    for (let b = 0; b < width; b++) acc[b] += counts[i * width + b];
    acc[width] += (metric.sums ?? [])[i];
  } else {
    into.values.set(key, (into.values.get(key) ?? 0) + (metric.values ?? [])[i]);
  }
}
