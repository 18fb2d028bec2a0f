// Tuples of up to four label values → values, looked up without allocating (the hot path's index).
/**
 * Tuples of up to four label values → one or two values, found without building anything. Every
 * tuple is a few slots of one shared array, `[b, c, d, value…, next]`; a Map from the first label
 * value (the one that varies most, such as a route pattern) gives the first tuple that starts with
 * it, and `next` the following one. The strings a request carries are mostly the same objects
 * every time (a route's pattern, a method from Node's parser, a cached status text), which V8
 * compares by identity, so a lookup costs one Map probe and a few comparisons and allocates
 * nothing; the same tuple as the last one found costs four comparisons.
 *
 * Memory is why it is built this way: a joined key string, an entry object and a tuple array per
 * label set cost about 300 bytes, an array per first value about 100; here a tuple costs its slots
 * (40 to 48 bytes) and a first value one Map entry. A first value shared by more than LONG_CHAIN
 * tuples switches to a Map keyed by the other three values joined, so that a lookup never walks a
 * long chain (only lookups of such a first value build that key).
 */
const LONG_CHAIN = 64;
const SEPARATOR = '\u0001';
/** The Map's mark for a first value whose tuples are in `long`. */
const LONG = -1;

export class TupleIndex {
  /** First label value → offset of its first tuple in `slots`, or LONG. */
  private readonly heads = new Map<string, number>();
  private readonly long = new Map<string, Map<string, number>>();
  private readonly slots: unknown[] = [];
  private readonly stride: number;
  private entries = 0;
  /** Where `find` found the last tuple's values in `slots`. */
  private foundAt = 0;
  /**
   * The last tuple found (its values at `foundAt`): consecutive requests mostly carry the same
   * label values (the same string objects), which four comparisons recognise without a Map probe.
   */
  private lastA: string | undefined = undefined;
  private lastB = '';
  private lastC = '';
  private lastD = '';

  /** `width`: how many values each tuple holds (1 or 2). */
  constructor(private readonly width: 1 | 2 = 1) {
    this.stride = 4 + width;
  }

  get size(): number {
    return this.entries;
  }

  /**
   * Whether the tuple is there; if so `value(0)`… read its values until the next `find`. Unused
   * places are passed as `''` (or left out), the same way on every call.
   */
  find(a: string, b = '', c = '', d = ''): boolean {
    if (a === this.lastA && b === this.lastB && c === this.lastC && d === this.lastD) return true;
    let at = this.heads.get(a);
    if (at === undefined) return false;
    if (at === LONG) {
      const found = this.long.get(a)?.get(b + SEPARATOR + c + SEPARATOR + d);
      if (found === undefined) return false;
      return this.found(found, a, b, c, d);
    }
    const slots = this.slots;
    const next = this.stride - 1;
    do {
      if (slots[at] === b && slots[at + 1] === c && slots[at + 2] === d) {
        return this.found(at + 3, a, b, c, d);
      }
      at = slots[at + next] as number;
    } while (at >= 0);
    return false;
  }

  /** Notes where the tuple `a, b, c, d` has its values (they never move: slots only grow). */
  private found(at: number, a: string, b: string, c: string, d: string): true {
    this.foundAt = at;
    this.lastA = a;
    this.lastB = b;
    this.lastC = c;
    this.lastD = d;
    return true;
  }

  /** Value `k` of the tuple the last successful `find` found. */
  value(k: 0 | 1 = 0): unknown {
    return this.slots[this.foundAt + k];
  }

  /** Adds a tuple that `find` does not find (the caller looked first), with its value(s). */
  add(v0: unknown, v1: unknown, a: string, b = '', c = '', d = ''): void {
    this.entries++;
    const slots = this.slots;
    const at = slots.length;
    if (this.width === 1) slots.push(b, c, d, v0, -1);
    else slots.push(b, c, d, v0, v1, -1);
    const head = this.heads.get(a);
    if (head === undefined) {
      this.heads.set(a, at);
      return;
    }
    if (head === LONG) {
      this.long.get(a)?.set(b + SEPARATOR + c + SEPARATOR + d, at + 3);
      return;
    }
    const next = this.stride - 1;
    let last = head;
    let length = 1;
    for (let i = slots[last + next] as number; i >= 0; i = slots[i + next] as number) {
      last = i;
      length++;
    }
    slots[last + next] = at;
    if (length + 1 > LONG_CHAIN) {
      const byTail = new Map<string, number>();
      for (let i = head; i >= 0; i = slots[i + next] as number) {
        byTail.set(
          `${slots[i] as string}${SEPARATOR}${slots[i + 1] as string}${SEPARATOR}${slots[i + 2] as string}`,
          i + 3,
        );
      }
      this.long.set(a, byTail);
      this.heads.set(a, LONG);
    }
  }
}
