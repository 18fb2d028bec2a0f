/**
 * A bounded cache from a tuple of label values to whatever was resolved for it, as nested Maps
 * keyed by the label strings themselves. The strings a request carries are mostly the same
 * objects every time (a route's pattern, a method from Node's parser, a cached status text), whose
 * hashes V8 keeps, so a hit costs a few Map probes and allocates nothing, where a joined key
 * would build and hash a new string on every request.
 */
export class LabelCache<V> {
  private readonly root = new Map<string, unknown>();
  private entries = 0;

  constructor(
    private readonly depth: number,
    private readonly maxEntries: number,
  ) {}

  get(values: readonly string[]): V | undefined {
    let node: unknown = this.root;
    for (let i = 0; i < this.depth; i++) {
      node = (node as Map<string, unknown>).get(values[i]);
      if (node === undefined) return undefined;
    }
    return node as V;
  }

  /** Remembers `value` unless the cache is full: callers then resolve it each time, correctly. */
  set(values: readonly string[], value: V): void {
    if (this.entries >= this.maxEntries) return;
    let node = this.root;
    for (let i = 0; i < this.depth - 1; i++) {
      let next = node.get(values[i]) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(values[i], (next = new Map()));
      node = next;
    }
    node.set(values[this.depth - 1], value);
    this.entries++;
  }
}
