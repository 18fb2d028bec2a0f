// autocannon as a promise, for a fixed number of requests, with the per-status counts it keeps
// (bench/autocannon.d.ts declares the part of its API the benchmarks use; the rest is added here).
import autocannon from 'autocannon';

export interface CannonOptions {
  url: string;
  /** Exactly this many requests: autocannon gives each connection its share and stops there. */
  amount: number;
  connections: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface CannonResult {
  /** Responses by status code, as autocannon counted them. */
  statuses: Record<string, number>;
  responses: number;
  errors: number;
  timeouts: number;
  resets: number;
  mismatches: number;
}

interface FullResult extends autocannon.Result {
  statusCodeStats: Record<string, { count: number }>;
  resets: number;
  mismatches: number;
}

export function cannon(options: CannonOptions): Promise<CannonResult> {
  const settings: autocannon.Options & { body?: string; timeout?: number } = {
    url: options.url,
    amount: options.amount,
    connections: options.connections,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    body: options.body,
    // A run with `amount` ends at the next sample after its last response: keep that short.
    sampleInt: 50,
    timeout: 20,
  };
  return new Promise((resolve, reject) => {
    autocannon(settings, (error, result) => {
      if (error) return reject(error);
      const full = result as FullResult;
      const statuses: Record<string, number> = {};
      for (const [status, { count }] of Object.entries(full.statusCodeStats)) {
        statuses[status] = count;
      }
      resolve({
        statuses,
        responses: Object.values(statuses).reduce((a, b) => a + b, 0),
        errors: full.errors,
        timeouts: full.timeouts,
        resets: full.resets,
        mismatches: full.mismatches,
      });
    });
  });
}
