// The load generator: autocannon in its own process, pinned to the other core than the server's,
// so that generating load never takes CPU from the process being measured.
import autocannon from 'autocannon';
import { serve } from './rpc';

export interface LoadRequest {
  url: string;
  connections: number;
  /** A fixed number of requests (the hot path: same work for every variant)... */
  amount?: number;
  /** ...or a duration in seconds (the event-loop benchmark). */
  duration?: number;
  /** Seconds a response may take before it counts as a timeout (autocannon's default 10). */
  timeoutSeconds?: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** autocannon notices that `amount` was reached only when it samples: do so often. */
const SAMPLE_MS = 20;

function run(request: LoadRequest): Promise<LoadResult> {
  // Own clock (autocannon's `duration` is rounded).
  const start = performance.now();
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: request.url,
        connections: request.connections,
        sampleInt: SAMPLE_MS,
        // autocannon rejects a key present with the value undefined.
        ...(request.amount !== undefined && { amount: request.amount }),
        ...(request.duration !== undefined && { duration: request.duration }),
        ...(request.timeoutSeconds !== undefined && { timeout: request.timeoutSeconds }),
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = (performance.now() - start) / 1000;
        resolve({
          requests: result.requests.total,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds,
          requestsPerSecond: result.requests.total / seconds,
          latencyP50Ms: result.latency.p50,
          latencyP99Ms: result.latency.p99,
        });
      },
    );
  });
}

serve({ run: (payload) => run(payload as LoadRequest) });
