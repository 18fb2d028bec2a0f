// One string per series key across gathers, so that each gather's decoded keys die young.

/**
 * Swaps the series keys of each decoded part of a snapshot or total for the same key as decoded
 * before. Every message over the IPC channel is decoded into new strings: tens of thousands of
 * keys per gather that the process then holds (a worker's last snapshot, the total being built)
 * would survive the young generation, and its collections, which copy what survives, would take
 * tens of milliseconds each. Swapped, the decoded keys are garbage within the turn that decoded
 * them, and the kept ones are old. Holds the keys of the current and of the previous generation
 * only, so that label sets that come and go are not kept for ever.
 */
export class Interner {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();

  /** Starts a generation: keys not seen in this one or the last are forgotten at the next. */
  nextGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** Replaces each key of `keys` by the one kept for it, in place; keeps the new ones. */
  intern(keys: string[]): void {
    const current = this.current;
    const previous = this.previous;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const kept = current.get(key);
      if (kept !== undefined) {
        keys[i] = kept;
        continue;
      }
      const old = previous.get(key) ?? key;
      current.set(old, old);
      keys[i] = old;
    }
  }
}
