// The failed-authentication limit: per address, bounded, not flushable.
/**
 * Counts failed authentications per client address in fixed one-minute windows, so that a client
 * guessing tokens is slowed to `limit` guesses a minute. The route asks `retryAfter` before it
 * looks at the credential, so a limited address learns nothing from its requests until its window
 * ends.
 *
 * At most `maxClients` addresses are remembered, so no number of clients can grow memory without
 * bound, and the table cannot be flushed to free a limited address early: a new address evicts
 * the oldest address that is not limited (or one whose window has ended), never a limited one.
 * When every place holds a limited address, the addresses that find no place share one window
 * of `limit` failures, so that fresh addresses do not mean fresh guesses.
 */
export interface FailureLimiterOptions {
  /** Failures allowed per window; 0 turns limiting off. Default 30. */
  limit?: number;
  windowMs?: number;
  maxClients?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export class FailureLimiter {
  readonly limit: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;
  /** Addresses below the limit, oldest first: the ones that may be evicted. */
  private readonly watched = new Map<string, Window>();
  /** Addresses at the limit, in the order they reached it. */
  private readonly limited = new Map<string, Window>();
  /** The shared window of the addresses that found no place. */
  private overflow: Window | undefined;
  /**
   * Told of every failure recorded here (not of those `shared` from elsewhere): a node:cluster
   * worker passes them on to the other workers, so that the limit holds for the whole cluster.
   */
  onFailure: ((client: string) => void) | undefined;

  constructor(options: FailureLimiterOptions = {}) {
    this.limit = options.limit ?? 30;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until the client may try again, or 0 if it may try now. */
  retryAfter(client: string): number {
    if (this.limit === 0) return 0;
    const window = this.current(client) ?? (this.hasRoom() ? undefined : this.sharedWindow());
    if (window === undefined || window.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - this.now()) / 1000));
  }

  /** Counts a failed authentication of `client`; `shared`: one another process recorded. */
  recordFailure(client: string, shared = false): void {
    if (this.limit === 0) return;
    if (!shared) this.onFailure?.(client);
    let window = this.current(client);
    if (window === undefined) {
      if (!this.hasRoom()) this.evictOne();
      if (!this.hasRoom()) {
        window = this.sharedWindow() ?? (this.overflow = { start: this.now(), failures: 0 });
        window.failures++;
        return;
      }
      window = { start: this.now(), failures: 0 };
      this.watched.set(client, window);
    }
    window.failures++;
    if (window.failures === this.limit && this.watched.delete(client)) {
      this.limited.set(client, window);
    }
  }

  /** How many addresses are remembered (for tests and diagnostics). */
  get size(): number {
    return this.watched.size + this.limited.size;
  }

  private expired(window: Window): boolean {
    return this.now() - window.start >= this.windowMs;
  }

  private current(client: string): Window | undefined {
    const map = this.watched.has(client) ? this.watched : this.limited;
    const window = map.get(client);
    if (window !== undefined && this.expired(window)) {
      map.delete(client);
      return undefined;
    }
    return window;
  }

  private sharedWindow(): Window | undefined {
    if (this.overflow !== undefined && this.expired(this.overflow)) this.overflow = undefined;
    return this.overflow;
  }

  /** Whether a new address can be remembered, after forgetting limited ones whose window ended. */
  private hasRoom(): boolean {
    if (this.size < this.maxClients) return true;
    // Limited addresses are kept in the order they reached the limit, which is close to the
    // order their windows end: drop the ended ones from the front.
    for (const [client, window] of this.limited) {
      if (!this.expired(window)) break;
      this.limited.delete(client);
    }
    return this.size < this.maxClients;
  }

  /** Forgets the oldest address that is not limited, if there is one. */
  private evictOne(): void {
    const oldest = this.watched.keys().next();
    if (!oldest.done) this.watched.delete(oldest.value);
  }
}
