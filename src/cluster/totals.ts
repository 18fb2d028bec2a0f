// Sums of snapshots, series by series.
import type { MetricSnapshot, Snapshot } from './snapshot';

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
      this.addMetric(metric);
    }
    return this;
  }

  private addMetric(metric: MetricSnapshot): void {
    let into = this.metrics.get(metric.name);
    if (into === undefined) {
      const base = { name: metric.name, description: metric.description, unit: metric.unit };
      into =
        metric.kind === 'histogram'
          ? { ...base, kind: 'histogram', boundaries: metric.boundaries ?? [], values: new Map() }
          : { ...base, kind: metric.kind, values: new Map() };
      this.metrics.set(metric.name, into);
    }
    if (into.kind !== metric.kind) return;
    if (into.kind === 'histogram') {
      const bounds = metric.boundaries ?? [];
      if (!sameBounds(into.boundaries, bounds)) return;
      const width = bounds.length + 1;
      const counts = metric.counts ?? [];
      const sums = metric.sums ?? [];
      for (let i = 0; i < metric.keys.length; i++) {
        const key = metric.keys[i];
        let acc = into.values.get(key);
        if (acc === undefined) {
          acc = new Array<number>(width + 1).fill(0);
          into.values.set(key, acc);
        }
        for (let b = 0; b < width; b++) acc[b] += counts[i * width + b];
        acc[width] += sums[i];
      }
    } else {
      const values = metric.values ?? [];
      for (let i = 0; i < metric.keys.length; i++) {
        const key = metric.keys[i];
        into.values.set(key, (into.values.get(key) ?? 0) + values[i]);
      }
    }
  }

  snapshot(): Snapshot {
    const metrics: MetricSnapshot[] = [];
    for (const m of this.metrics.values()) {
      const base = { name: m.name, description: m.description, unit: m.unit };
      const keys = [...m.values.keys()];
      if (m.kind === 'histogram') {
        const counts: number[] = [];
        const sums: number[] = [];
        const width = m.boundaries.length + 1;
        for (const acc of m.values.values()) {
          for (let b = 0; b < width; b++) counts.push(acc[b]);
          sums.push(acc[width]);
        }
        metrics.push({
          ...base,
          kind: 'histogram',
          boundaries: m.boundaries,
          keys,
          counts,
          sums,
        });
      } else {
        metrics.push({ ...base, kind: m.kind, keys, values: [...m.values.values()] });
      }
    }
    return { metrics };
  }
}
