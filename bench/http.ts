// The orchestrator's own requests to a server: creating the host the load asks for, and scrapes.
import { BENCH_TOKEN, METRICS_PATH } from './constants';

/** POST /api/v1/hosts, then checks GET answers 200; returns the URL the load generator hits. */
export async function createHost(base: string): Promise<string> {
  const created = await fetch(`${base}/api/v1/hosts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'h' }),
  });
  const body = (await created.json()) as { data?: { id?: string } };
  const id = body.data?.id;
  if (created.status !== 201 || typeof id !== 'string') {
    throw new Error(`creating a host answered ${created.status}: ${JSON.stringify(body)}`);
  }
  const url = `${base}/api/v1/hosts/${id}`;
  const check = await fetch(url);
  await check.arrayBuffer();
  if (check.status !== 200) throw new Error(`GET ${url} answered ${check.status}`);
  return url;
}

/** One scrape, with the bearer token (only scanopy-metrics checks it); returns the body's bytes. */
export async function scrape(base: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(base + METRICS_PATH, {
    headers: { Authorization: `Bearer ${BENCH_TOKEN}`, ...headers },
  }).catch((error: Error) => {
    // fetch's own message is only "fetch failed"; the reason is its cause.
    const cause = (error.cause as Error | undefined)?.message ?? error.message;
    throw new Error(`scrape of ${base} failed: ${cause}`, { cause: error });
  });
  const body = await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`scrape of ${base} answered ${response.status}`);
  return body.byteLength;
}

export interface ScrapeLoop {
  /** Stops the loop, waits for the scrape in flight, and says how many were done. */
  stop(): Promise<{ scrapes: number; latenciesMs: number[] }>;
}

/**
 * Scrapes `base` every `intervalMs` (the first after one interval, never two at once) until
 * stopped. With intervalMs 0 it scrapes back to back.
 */
export function scrapeLoop(
  base: string,
  intervalMs: number,
  headers: Record<string, string> = {},
): ScrapeLoop {
  let stopped = false;
  let wake: (() => void) | undefined;
  const latenciesMs: number[] = [];
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let failure: Error | undefined;
  const loop = (async () => {
    while (!stopped) {
      await sleep(intervalMs);
      if (stopped) break;
      const start = performance.now();
      await scrape(base, headers);
      latenciesMs.push(performance.now() - start);
    }
  })().catch((error: unknown) => {
    // Kept for stop(): an unobserved rejection would end the run before the children are killed.
    failure = error instanceof Error ? error : new Error(String(error));
  });
  return {
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
      if (failure !== undefined) throw failure;
      return { scrapes: latenciesMs.length, latenciesMs };
    },
  };
}
