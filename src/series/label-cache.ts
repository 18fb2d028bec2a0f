/**
 * A bounded cache from a tuple of label values to whatever was resolved for it: a Map keyed by the
 * first (most varied) label, and a short list of the tuples sharing it, compared label by label.
 * The strings a request carries are mostly the same objects every time (a route's pattern, a
 * method from Node's parser, a cached status text), which V8 compares by identity and whose hashes
 * it keeps, so a hit costs one Map probe and a few comparisons and allocates nothing, where a
 * joined key would build and hash a new string on every request. Nested Maps would be as fast but
 * cost a Map per distinct prefix: megabytes for ten thousand label sets.
 */
interface Entry<V> {
  /** The whole tuple, as it was first seen (its first value is the Map's key). */
  readonly values: readonly string[];
  readonly value: V;
}

export class LabelCache<V> {
  /** Most first labels have a single tuple: it is stored as it is, a list only from the second. */
  private readonly byFirst = new Map<string, Entry<V> | Entry<V>[]>();
  private entries = 0;

  constructor(private readonly maxEntries: number) {}

  get(values: readonly string[]): V | undefined {
    const found = this.byFirst.get(values[0]);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return sameTail(found.values, values) ? found.value : undefined;
    for (const entry of found) if (sameTail(entry.values, values)) return entry.value;
    return undefined;
  }

  /**
   * Remembers `value` (keeping `values`, which must not change afterwards) unless the cache is
   * full: callers then resolve the tuple each time, correctly.
   */
  set(values: readonly string[], value: V): void {
    if (this.entries >= this.maxEntries) return;
    const entry: Entry<V> = { values, value };
    const found = this.byFirst.get(values[0]);
    if (found === undefined) this.byFirst.set(values[0], entry);
    else if (Array.isArray(found)) found.push(entry);
    else this.byFirst.set(values[0], [found, entry]);
    this.entries++;
  }
}

function sameTail(known: readonly string[], values: readonly string[]): boolean {
  for (let i = 1; i < known.length; i++) if (known[i] !== values[i]) return false;
  return true;
}
