/**
 * Counts failed authentications per client address in fixed one-minute windows, so that a client
 * guessing tokens is slowed to `limit` guesses a minute. At most `maxClients` addresses are
 * remembered (the oldest is forgotten first), so no number of clients can grow memory without
 * bound.
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
  private readonly clients = new Map<string, Window>();

  constructor(options: FailureLimiterOptions = {}) {
    this.limit = options.limit ?? 30;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until the client may try again, or 0 if it may try now. */
  retryAfter(client: string): number {
    if (this.limit === 0) return 0;
    const window = this.current(client);
    if (window === undefined || window.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - this.now()) / 1000));
  }

  recordFailure(client: string): void {
    if (this.limit === 0) return;
    let window = this.current(client);
    if (window === undefined) {
      if (this.clients.size >= this.maxClients) {
        this.clients.delete(this.clients.keys().next().value as string);
      }
      window = { start: this.now(), failures: 0 };
      this.clients.set(client, window);
    }
    window.failures++;
  }

  /** How many addresses are remembered (for tests and diagnostics). */
  get size(): number {
    return this.clients.size;
  }

  private current(client: string): Window | undefined {
    const window = this.clients.get(client);
    if (window !== undefined && this.now() - window.start >= this.windowMs) {
      this.clients.delete(client);
      return undefined;
    }
    return window;
  }
}
