// A small, bounded traffic generator for the reference service: rounds of requests at a fixed
// pace, each a mix of what the dashboard shows (CRUD by every kind of caller, domain events,
// rejected credentials, 404s, a 500, a streamed response, a refused scrape), every record it
// creates deleted again. One round at a time, at most `maxRounds` rounds; it stops when `signal`
// aborts. Used by `npm run demo` and by the dashboard's test.
import { setTimeout as sleep } from 'node:timers/promises';

import { DEMO_API_KEY, DEMO_DAEMON_KEY, DEMO_USER_SESSION } from '../reference-service/auth';

export interface TrafficOptions {
  /** The service, e.g. http://127.0.0.1:60072. */
  baseUrl: string;
  signal: AbortSignal;
  /** Pause between rounds. Default 200 ms (about 70 requests a second). */
  pauseMs?: number;
  /** Default 100,000 rounds (several hours at the default pace). */
  maxRounds?: number;
  /** The metrics route's path, for the refused scrape. Default /metrics. */
  metricsPath?: string;
}

export interface TrafficStats {
  rounds: number;
  requests: number;
  /** Requests that got no answer (connection refused or reset). */
  failures: number;
}

const USER = { Authorization: `Bearer ${DEMO_USER_SESSION}` };
const API_KEY = { 'X-Api-Key': DEMO_API_KEY };
const DAEMON = { 'X-Daemon-Key': DEMO_DAEMON_KEY };
const JSON_BODY = { 'Content-Type': 'application/json' };

/** Runs rounds until `maxRounds` or the signal; resolves with what was sent. */
export async function generateTraffic(options: TrafficOptions): Promise<TrafficStats> {
  const { baseUrl, signal } = options;
  const pauseMs = options.pauseMs ?? 200;
  const maxRounds = options.maxRounds ?? 100_000;
  const metricsPath = options.metricsPath ?? '/metrics';
  const stats: TrafficStats = { rounds: 0, requests: 0, failures: 0 };

  /** One request, its body read; undefined when there was no answer. */
  const send = async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: unknown,
  ): Promise<{ status: number; body: string } | undefined> => {
    stats.requests++;
    try {
      const res = await fetch(baseUrl + path, {
        method,
        headers: body === undefined ? headers : { ...headers, ...JSON_BODY },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      return { status: res.status, body: await res.text() };
    } catch {
      if (!signal.aborted) stats.failures++;
      return undefined;
    }
  };

  /** Creates a record as `caller`, reads, updates and deletes it. */
  const lifecycle = async (resource: string, caller: Record<string, string>, n: number) => {
    const created = await send('POST', `/api/v1/${resource}`, caller, { name: `demo-${n}` });
    if (created?.status !== 201) return;
    const { data } = JSON.parse(created.body) as { data: { id: string } };
    await send('GET', `/api/v1/${resource}/${data.id}`, caller);
    await send('PUT', `/api/v1/${resource}/${data.id}`, caller, { name: `demo-${n}-renamed` });
    await send('DELETE', `/api/v1/${resource}/${data.id}`, caller);
  };

  while (stats.rounds < maxRounds && !signal.aborted) {
    const n = stats.rounds++;
    // A streamed response runs alongside the round: requests are in flight at scrape time.
    const streaming = send('GET', '/api/v1/debug/stream', USER);
    await lifecycle('hosts', USER, n);
    await lifecycle('networks', API_KEY, n);
    await send('GET', '/api/v1/hosts', USER);
    await send('GET', '/api/v1/subnets', DAEMON);
    await send('GET', '/api/health');
    await send('GET', '/api/v1/hosts/00000000-0000-4000-8000-00000000dead', USER); // 404
    await send('GET', '/api/v1/hosts', { Authorization: 'Bearer expired-session' }); // 401
    await send('GET', '/api/v1/services', { 'X-Api-Key': 'revoked-key' }); // 401
    await send('GET', '/favicon.ico'); // no route: path="unmatched"
    if (n % 5 === 0) await send('GET', '/api/v1/debug/error', USER); // 500
    // Below the route's default limit of 30 failures a minute per address.
    if (n % 20 === 0) await send('GET', metricsPath, { Authorization: 'Bearer not-the-token' });
    await streaming;
    await sleep(pauseMs, undefined, { signal }).catch(() => undefined);
  }
  return stats;
}
