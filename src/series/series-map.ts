// A bounded map from label sets to series, with OTel's cardinality limit and overflow series.
import type { Attributes } from '@opentelemetry/api';
import { TupleIndex } from './tuple-index';

/** Attributes of the series that takes every new label set once the cardinality limit is hit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const SEPARATOR = '\u0001';

/**
 * Series per metric, the overflow series included, unless a view or option says otherwise. The
 * labels are folded, so what they can reach is known: a service of 500 routes, with one or two
 * methods per route, half a dozen statuses and two or three caller kinds, has about 10,000 label
 * sets on its request counter. OTel's 2,000 cut such a service short; 20,000 leaves it room, and
 * a full metric holds 4 to 9 MB (README, Metrics).
 */
export const DEFAULT_CARDINALITY_LIMIT = 20_000;

export interface SeriesOptions {
  /** Label names, in the order values are passed to the metric. */
  labelNames: readonly string[];
  /** Label names to keep (an OTel view's attribute keys); the others are dropped. Default: all. */
  attributeKeys?: readonly string[];
  /** At most this many series, the overflow series included (OTel's semantics). */
  cardinalityLimit?: number;
  /** The kept label that varies most (the series are indexed by it first). Default: the first. */
  indexLabel?: string;
  /**
   * Called for every label set `get` sends to the overflow series (every recording, for callers
   * that call `get` once per recording and keep no overflow series: see `isOverflow`).
   */
  onOverflow?: () => void;
}

export interface Series {
  readonly attributes: Attributes;
}

/**
 * Label values → series, bounded. Metrics of up to four labels are indexed as tuples (TupleIndex), so
 * that a series costs a few slots in a shared array rather than a key string and a Map entry of
 * its own; metrics with more labels fall back to a Map keyed by the values joined. Label values
 * are expected to be bounded, folded values (labels.ts), none of which contains the separator.
 */
export class SeriesMap<S extends Series> {
  readonly labelNames: readonly string[];
  readonly cardinalityLimit: number;
  /** Indices in `values` of the kept labels, in label order (attributes are built in it). */
  private readonly kept: readonly number[];
  /** The same indices, the index label first: the order of the tuple's places. */
  private readonly order: readonly number[];
  private readonly index: TupleIndex | undefined;
  private readonly joined: Map<string, S> | undefined;
  /** Every series but the overflow one, in creation order. */
  private readonly list: S[] = [];
  private overflow: S | undefined;
  private readonly onOverflow: (() => void) | undefined;

  constructor(
    options: SeriesOptions,
    private readonly create: (attributes: Attributes) => S,
  ) {
    const keep = options.attributeKeys;
    this.labelNames = options.labelNames;
    this.kept = options.labelNames.flatMap((name, i) => (!keep || keep.includes(name) ? [i] : []));
    const first =
      options.indexLabel === undefined ? -1 : options.labelNames.indexOf(options.indexLabel);
    this.order = this.kept.includes(first)
      ? [first, ...this.kept.filter((i) => i !== first)]
      : this.kept;
    if (options.labelNames.length <= 4) this.index = new TupleIndex();
    else this.joined = new Map<string, S>();
    this.cardinalityLimit = options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
    this.onOverflow = options.onOverflow;
  }

  get(values: readonly string[]): S {
    if (this.index === undefined) {
      const key = this.order.map((i) => values[i]).join(SEPARATOR);
      return this.joined?.get(key) ?? this.add(values, key);
    }
    return this.getOf(values[0], values[1], values[2], values[3]);
  }

  /** `get` for up to four label values passed one by one, in label order: nothing allocated. */
  getOf(v0 = '', v1 = '', v2 = '', v3 = ''): S {
    const index = this.index;
    if (index === undefined) return this.get([v0, v1, v2, v3]);
    const o = this.order;
    const a = o.length > 0 ? pick(o[0], v0, v1, v2, v3) : '';
    const b = o.length > 1 ? pick(o[1], v0, v1, v2, v3) : '';
    const c = o.length > 2 ? pick(o[2], v0, v1, v2, v3) : '';
    const d = o.length > 3 ? pick(o[3], v0, v1, v2, v3) : '';
    if (index.find(a, b, c, d)) return index.value() as S;
    const series = this.add([v0, v1, v2, v3], undefined);
    if (!this.isOverflow(series)) index.add(series, undefined, a, b, c, d);
    return series;
  }

  /** Whether `series` is the overflow series: a caller must not keep it, but `get` again. */
  isOverflow(series: S): boolean {
    return series === this.overflow;
  }

  /** Every series, the overflow series last, for a collection. */
  *[Symbol.iterator](): IterableIterator<S> {
    yield* this.list;
    if (this.overflow) yield this.overflow;
  }

  get size(): number {
    return this.list.length + (this.overflow ? 1 : 0);
  }

  /** A new series for `values` (label order), or the overflow series past the limit. */
  private add(values: readonly string[], key: string | undefined): S {
    // One place is kept for the overflow series, as the OTel SDK does.
    if (this.list.length >= this.cardinalityLimit - 1) {
      this.overflow ??= this.create(OVERFLOW_ATTRIBUTES);
      this.onOverflow?.();
      return this.overflow;
    }
    const attributes: Attributes = {};
    for (const i of this.kept) attributes[this.labelNames[i]] = values[i];
    const series = this.create(attributes);
    if (key !== undefined) this.joined?.set(key, series);
    this.list.push(series);
    return series;
  }
}

function pick(i: number, v0: string, v1: string, v2: string, v3: string): string {
  return i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : v3;
}
