// autocannon 9 ships no type declarations and there is no @types/autocannon in node_modules: this
// declares the small part of its API the load generator uses (load-child.ts).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      /** Stop after this many requests (takes precedence over `duration`). */
      amount?: number;
      /** Seconds. */
      duration?: number;
      /**
       * ms between samples; a run with `amount` ends only at the next sample (default 1000), so
       * the default leaves up to a second of idle time at the end of every round.
       */
      sampleInt?: number;
      /** Seconds a response may take before autocannon counts a timeout (default 10). */
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
    }
    interface Histogram {
      average: number;
      mean: number;
      p50: number;
      p99: number;
      max: number;
      total: number;
    }
    interface Result {
      requests: Histogram;
      latency: Histogram;
      throughput: Histogram;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
    }
    interface Instance {
      stop(): void;
    }
  }
  function autocannon(
    options: autocannon.Options,
    callback: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;
  export = autocannon;
}
