// Goal 1, what recording one request costs: each library's request-recording middleware called as
// Koa calls it, on a minimal fake context, in a child of its own (micro-child.ts) on the server
// core. This is the package's own work per request, a few hundred nanoseconds, which the hot-path
// table (server CPU of a whole service, tens of microseconds per request) cannot resolve on a
// shared machine. Each variant has its own loop function, so that every call site of the loop sees
// one callee (see events-bench.ts); the baseline loop does everything but call a middleware.
import { EventEmitter } from 'node:events';
import type { Context, Middleware } from 'koa';
import { createMetrics } from 'scanopy-metrics';
import { BENCH_TOKEN } from './constants';
import { gc } from './rpc';
import { rotate } from './stats';
import { loadSubject } from './subjects';

export const RECORD_VARIANTS = [
  'baseline',
  'scanopy-metrics firstMiddleware',
  'prom-client middleware',
  'otel-sdk middleware',
] as const;
export type RecordVariant = (typeof RECORD_VARIANTS)[number];

/** The libraries whose scrape is checked, and the variant that records into each. */
export const RECORDING_LIBRARIES = ['scanopy-metrics', 'prom-client', 'otel-sdk'] as const;
export type RecordingLibrary = (typeof RECORDING_LIBRARIES)[number];
const LIBRARY_OF: Record<RecordVariant, RecordingLibrary | undefined> = {
  baseline: undefined,
  'scanopy-metrics firstMiddleware': 'scanopy-metrics',
  'prom-client middleware': 'prom-client',
  'otel-sdk middleware': 'otel-sdk',
};

export interface RecordRequest {
  ops: number;
  rounds: number;
}

export interface RecordResult {
  /** ns per request, one entry per counted round. */
  ns: Record<RecordVariant, number[]>;
  /** Requests recorded into each library (warm-up included): every one was found in its scrape. */
  recorded: Record<RecordingLibrary, number>;
}

/** The label set every fake request records, and the pattern @koa/router matched. */
export const ROUTE = '/api/v1/hosts/:id';
const LABELS = { method: 'GET', path: ROUTE, status: '200', entity_type: 'user' };

/** What the middlewares read of `ctx.res`: an emitter, its status, whether headers went out. */
type FakeResponse = EventEmitter & { statusCode: number; headersSent: boolean };

/**
 * The context of `GET /api/v1/hosts/42` once @koa/router and the service's auth have run: every
 * property the middlewares read (src/middleware.ts, labels.ts, route.ts; subjects/middleware.ts).
 * @koa/router sets both `matched` (read by the package) and `_matchedRoute` (read by the usual
 * middleware of the baselines). A fresh response per request, as in a server.
 */
export function fakeContext(): { ctx: Context; res: FakeResponse } {
  const res = new EventEmitter() as FakeResponse;
  res.statusCode = 200;
  res.headersSent = true;
  const ctx = {
    method: 'GET',
    path: '/api/v1/hosts/42',
    state: { entityType: 'user' },
    matched: [{ path: ROUTE, methods: ['HEAD', 'GET'] }],
    _matchedRoute: ROUTE,
    res,
  };
  return { ctx: ctx as unknown as Context, res };
}

/** The rest of the service: answered at once. */
export const next = (): Promise<void> => Promise.resolve();

/**
 * Node's http emits `finish` once the response is written, then `close`: both are emitted for
 * every variant (the package records on `close`, the baselines' middleware on `finish`), so the
 * baseline row holds the same emitter work and can be subtracted.
 */
export function respond(res: FakeResponse): void {
  res.emit('finish');
  res.emit('close');
}

/** Sum of the samples of `name` whose labels include every pair of `labels`. */
export function sampleValue(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const inside = line.slice(name.length + 1, close);
    if (!Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) continue;
    total += Number(
      line
        .slice(close + 1)
        .trim()
        .split(' ')[0],
    );
    found = true;
  }
  return found ? total : NaN;
}

export async function runRecord(request: RecordRequest): Promise<RecordResult> {
  const { ops, rounds } = request;
  // What the preload installs, built the way the preload builds it (the token opens the route).
  const metrics = createMetrics({ token: 't' });
  const pkg = metrics.firstMiddleware();
  // The baselines' middleware exactly as the hot path's servers put it first.
  const prom = (await loadSubject('prom-client'))({ token: BENCH_TOKEN });
  const otel = (await loadSubject('otel-sdk'))({ token: BENCH_TOKEN });
  const promMiddleware: Middleware = prom.middleware();
  const otelMiddleware: Middleware = otel.middleware();

  // Awaited as koa-compose awaits the first middleware; the response is sent afterwards.
  const loops: Record<RecordVariant, (n: number) => Promise<void>> = {
    baseline: async (n) => {
      for (let i = 0; i < n; i++) {
        const { res } = fakeContext();
        await next();
        respond(res);
      }
    },
    'scanopy-metrics firstMiddleware': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        await pkg(ctx, next);
        respond(res);
      }
    },
    'prom-client middleware': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        await promMiddleware(ctx, next);
        respond(res);
      }
    },
    'otel-sdk middleware': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        await otelMiddleware(ctx, next);
        respond(res);
      }
    },
  };

  const ns = Object.fromEntries(RECORD_VARIANTS.map((v) => [v, []])) as unknown as Record<
    RecordVariant,
    number[]
  >;
  const recorded: Record<RecordingLibrary, number> = {
    'scanopy-metrics': 0,
    'prom-client': 0,
    'otel-sdk': 0,
  };
  for (let round = 0; round <= rounds; round++) {
    for (const variant of rotate(RECORD_VARIANTS, round)) {
      gc();
      const start = process.hrtime.bigint();
      await loops[variant](ops);
      const elapsed = Number(process.hrtime.bigint() - start);
      const library = LIBRARY_OF[variant];
      if (library !== undefined) recorded[library] += ops;
      if (round > 0) ns[variant].push(elapsed / ops);
    }
  }

  // A recorder that dropped requests would look fast: every library must have counted each one,
  // under the labels the hot path records, in its counter and in its histogram.
  const texts: Record<RecordingLibrary, string> = {
    'scanopy-metrics': await metrics.scrape(),
    'prom-client': await prom.scrape(),
    'otel-sdk': await otel.scrape(),
  };
  for (const library of RECORDING_LIBRARIES) {
    const requests = sampleValue(texts[library], 'http_requests_total', LABELS);
    const observed = sampleValue(texts[library], 'http_request_duration_seconds_count', {
      method: LABELS.method,
      path: LABELS.path,
    });
    if (requests !== recorded[library] || observed !== recorded[library]) {
      throw new Error(
        `${library}: http_requests_total counted ${requests} and the duration histogram` +
          ` ${observed} requests with ${JSON.stringify(LABELS)}; ${recorded[library]} were recorded`,
      );
    }
  }
  await Promise.all([metrics.shutdown(), prom.shutdown(), otel.shutdown()]);
  return { ns, recorded };
}
