// A bounded map from label sets to series, with OTel's cardinality limit and overflow series.
import type { Attributes } from '@opentelemetry/api';

/** Attributes of the series that takes every new label set once the cardinality limit is hit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const SEPARATOR = '\u0001';

export interface SeriesOptions {
  /** Label names, in the order values are passed to the metric. */
  labelNames: readonly string[];
  /** Label names to keep (an OTel view's attribute keys); the others are dropped. Default: all. */
  attributeKeys?: readonly string[];
  /** At most this many series, the overflow series included (OTel's semantics; default 2000). */
  cardinalityLimit?: number;
}

export interface Series {
  readonly attributes: Attributes;
}

/**
 * Label values → series, bounded. The key is the kept label values joined, so a lookup costs one
 * short string concatenation and one Map probe: no attribute objects, sorting or hashing per call,
 * which is where the OTel SDK spends most of its per-call time. Label values are expected to be
 * bounded, folded values (labels.ts), none of which contains the separator.
 */
export class SeriesMap<S extends Series> {
  readonly labelNames: readonly string[];
  readonly cardinalityLimit: number;
  private readonly kept: readonly number[];
  private readonly map = new Map<string, S>();
  private overflow: S | undefined;

  constructor(
    options: SeriesOptions,
    private readonly create: (attributes: Attributes) => S,
  ) {
    const keep = options.attributeKeys;
    this.labelNames = options.labelNames;
    this.kept = options.labelNames.flatMap((name, i) => (!keep || keep.includes(name) ? [i] : []));
    this.cardinalityLimit = options.cardinalityLimit ?? 2000;
  }

  get(values: readonly string[]): S {
    const kept = this.kept;
    let key = values[kept[0]] ?? '';
    for (let i = 1; i < kept.length; i++) key += SEPARATOR + values[kept[i]];
    const found = this.map.get(key);
    return found === undefined ? this.add(key, values) : found;
  }

  /** Every series, the overflow series last, for a collection. */
  *[Symbol.iterator](): IterableIterator<S> {
    yield* this.map.values();
    if (this.overflow) yield this.overflow;
  }

  get size(): number {
    return this.map.size + (this.overflow ? 1 : 0);
  }

  private add(key: string, values: readonly string[]): S {
    // One place is kept for the overflow series, as the OTel SDK does.
    if (this.map.size >= this.cardinalityLimit - 1) {
      this.overflow ??= this.create(OVERFLOW_ATTRIBUTES);
      return this.overflow;
    }
    const attributes: Attributes = {};
    for (const i of this.kept) attributes[this.labelNames[i]] = values[i];
    const series = this.create(attributes);
    this.map.set(key, series);
    return series;
  }
}
