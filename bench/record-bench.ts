// Goal 1, what recording one request costs: each library's request-recording middleware called as
// Koa calls it, on a minimal fake context, in a child of its own (micro-child.ts) on the server
// core. This is the package's own work per request, a few hundred nanoseconds, which the hot-path
// table (server CPU of a whole service, tens of microseconds per request) cannot resolve on a
// shared machine. Each variant has its own loop function, so that every call site of the loop sees
// one callee (see events-bench.ts); the baseline loop does everything but call a middleware.
import { EventEmitter } from 'node:events';
import type { Context, Middleware } from 'koa';
import { createMetrics } from 'scanopy-metrics';
import {
  countRequestBody,
  countResponseBody,
  installBodyCountingOn,
  type BodyBytes,
} from '../src/recorder/body-bytes';
import { BENCH_TOKEN } from './constants';
import { gc } from './rpc';
import { rotate } from './stats';
import { loadSubject } from './subjects';

export const RECORD_VARIANTS = [
  'baseline',
  'scanopy-metrics firstMiddleware',
  'prom-client middleware',
  'otel-sdk middleware',
  'scanopy-metrics, entity_type on duration',
  'in-flight gauge alone',
  'request size alone',
  'response size alone',
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
  'scanopy-metrics, entity_type on duration': undefined,
  'in-flight gauge alone': undefined,
  'request size alone': undefined,
  'response size alone': undefined,
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

/**
 * What the middlewares read of `ctx.res`: an emitter, its status, whether headers went out, and
 * the `write`/`end` the package wraps to count the body.
 */
type FakeResponse = EventEmitter & {
  statusCode: number;
  headersSent: boolean;
  destroyed: boolean;
  writableEnded: boolean;
  write(chunk: unknown): boolean;
  end(chunk?: unknown): unknown;
};

/** What the package reads of `ctx.req`: its stream's `push`, headers, and whether it ended. */
interface FakeRequest {
  headers: Record<string, string>;
  httpVersionMajor: number;
  readableEnded: boolean;
  destroyed: boolean;
  push(chunk: unknown): boolean;
}

/** The JSON a GET of one host answers. */
const BODY = '{"success":true,"data":{"id":"42","name":"h1"},"error":null}';

/**
 * Classes of their own, whose prototypes get the package's counting `push`, `write` and `end`
 * as Node's do, so that the fake requests cost what real ones cost.
 */
class FakeRes extends EventEmitter {
  statusCode = 200;
  headersSent = true;
  destroyed = false;
  writableEnded = false;
  write(): boolean {
    return true;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
}
class FakeReq {
  headers: Record<string, string> = {};
  httpVersionMajor = 1;
  readableEnded = false;
  destroyed = false;
  push(): boolean {
    return true;
  }
}
installBodyCountingOn([FakeReq.prototype], [FakeRes.prototype]);

function fakeResponse(): FakeResponse {
  return new FakeRes();
}

function fakeRequest(): FakeRequest {
  return new FakeReq();
}

/**
 * The context of `GET /api/v1/hosts/42` once @koa/router and the service's auth have run: every
 * property the middlewares read (src/middleware.ts, labels.ts, route.ts; subjects/middleware.ts).
 * @koa/router sets both `matched` (read by the package) and `_matchedRoute` (read by the usual
 * middleware of the baselines). A fresh response per request, as in a server.
 */
export function fakeContext(): { ctx: Context; res: FakeResponse } {
  const res = fakeResponse();
  const ctx = {
    req: fakeRequest(),
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
  res.end(BODY);
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
  const withEntityType = createMetrics({ token: 't', durationEntityType: true });
  const pkgEntityType = withEntityType.firstMiddleware();
  // The pieces of the new metrics, each alone, as the middleware runs them.
  const pieces = createMetrics({ token: 't' }).pipeline.instruments;
  const pieceSeries = pieces.requestFinished('GET', ROUTE, '200', 'user', 0.001, 0);
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
    'scanopy-metrics, entity_type on duration': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        await pkgEntityType(ctx, next);
        respond(res);
      }
    },
    'in-flight gauge alone': async (n) => {
      for (let i = 0; i < n; i++) {
        const { res } = fakeContext();
        const inFlight = pieces.requestArrived('GET', 'anonymous');
        await next();
        respond(res);
        inFlight.value--;
      }
    },
    'request size alone': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        const counts: BodyBytes = { received: 0, sent: 0 };
        countRequestBody(ctx.req, counts);
        await next();
        respond(res);
        pieces.recordRequestBody(pieceSeries, counts.received);
      }
    },
    'response size alone': async (n) => {
      for (let i = 0; i < n; i++) {
        const { ctx, res } = fakeContext();
        const counts: BodyBytes = { received: 0, sent: 0 };
        countResponseBody(ctx.res, counts);
        await next();
        respond(res);
        pieces.httpResponseSize.recordIn(pieceSeries.responseSize, counts.sent);
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
  // The new metrics of the package counted every request too, and nothing is left in flight.
  const pkgText = texts['scanopy-metrics'];
  const route = { method: LABELS.method, path: LABELS.path };
  const sizes = [
    sampleValue(pkgText, 'http_request_size_bytes_count', route),
    sampleValue(pkgText, 'http_response_size_bytes_count', route),
    sampleValue(pkgText, 'http_response_size_bytes_sum', route),
    sampleValue(pkgText, 'http_requests_in_flight', { method: 'GET' }),
  ];
  const want = [
    recorded['scanopy-metrics'],
    recorded['scanopy-metrics'],
    recorded['scanopy-metrics'] * Buffer.byteLength(BODY),
    0,
  ];
  if (sizes.join() !== want.join()) {
    throw new Error(
      `scanopy-metrics: request size count, response size count and sum, in flight were` +
        ` ${sizes.join(', ')}; expected ${want.join(', ')}`,
    );
  }
  await Promise.all([
    metrics.shutdown(),
    withEntityType.shutdown(),
    prom.shutdown(),
    otel.shutdown(),
  ]);
  return { ns, recorded };
}
