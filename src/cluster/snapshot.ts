// A process's own metrics as plain data that crosses the IPC channel.
import type { Attributes } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Counter } from '../series/counter';
import { Histogram } from '../series/histogram';

/**
 * A process's metrics as plain data, small enough to cross the cluster's IPC channel as JSON:
 * per metric, its header and its series as parallel arrays. A series is named by its labels
 * (`key`), so that the same label set from several workers adds up.
 */
export interface Snapshot {
  metrics: MetricSnapshot[];
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSnapshot {
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  /** Histograms only: the upper bounds (the `+Inf` bucket is implied). */
  boundaries?: number[];
  keys: string[];
  /** Counters and gauges: one value per key. */
  values?: number[];
  /** Histograms: `boundaries.length + 1` bucket counts per key, one key after the other. */
  counts?: number[];
  /** Histograms: one sum per key. */
  sums?: number[];
}

export type OwnMetric = Counter | Histogram;

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

export function kindOf(metric: OwnMetric): MetricKind {
  const header = metric.header();
  if (header.dataPointType === DataPointType.HISTOGRAM) return 'histogram';
  return header.dataPointType === DataPointType.SUM && header.isMonotonic === true
    ? 'counter'
    : 'gauge';
}

/** Reads the live series of `metrics` into a snapshot. */
export function takeSnapshot(metrics: readonly OwnMetric[]): Snapshot {
  return {
    metrics: metrics.map((metric) => {
      const { descriptor } = metric.header();
      const base = {
        name: descriptor.name,
        description: descriptor.description,
        unit: descriptor.unit,
        kind: kindOf(metric),
      };
      const keys: string[] = [];
      if (metric instanceof Histogram) {
        const counts: number[] = [];
        const sums: number[] = [];
        for (const s of metric.liveSeries()) {
          keys.push(keyOf(s.attributes));
          for (const c of s.counts) counts.push(c);
          sums.push(s.sum);
        }
        return { ...base, boundaries: [...metric.boundaries], keys, counts, sums };
      }
      const values: number[] = [];
      for (const s of metric.liveSeries()) {
        keys.push(keyOf(s.attributes));
        values.push(s.value);
      }
      return { ...base, keys, values };
    }),
  };
}

/** The key of a label set given as an object (for the metrics the cluster adds itself). */
export function labelKey(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => name + PAIR + value)
    .join(NEXT);
}
