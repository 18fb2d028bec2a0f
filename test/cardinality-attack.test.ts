// Cardinality cannot be attacked: a Koa app wired like the preload (first middleware, then the
// service's auth and router) gets 10,000 random URLs with every method Node's client can send and
// 10,000 random caller kinds, and the observer gets 10,000 random events through recordEvent and
// the diagnostics channel, then 2,000 events with new well-formed names. The HTTP metrics add a
// handful of series, all fixed fold-values; the events add at most the learning caps' worth of
// new names (100 entity types, 200 operations, exactly as a model of the caps predicts), then
// fold to `other` with one warning per cap; and every request and event is counted. Then a legitimate dimension over a configured cardinality limit:
// the overflow series takes the rest, and the number of series stays put.
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';

import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { CALLER_KINDS, EVENTS_CHANNEL, createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { METRIC_NAMES } from '../src/collection/instruments';
import { LEARNABLE_VALUE } from '../src/labels/learned-values';
import { KNOWN_ENTITIES, KNOWN_METHODS, KNOWN_OPERATIONS } from '../src/labels/vocabulary';
import { expect } from './helpers/chai';
import { parseExposition, series } from './helpers/exposition';
import type { Sample } from './helpers/exposition';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'cardinality-token-2c71';
const SEED = 20_250_501;
const ATTACK = 10_000;

interface Request {
  method: string;
  path: string;
  entityType?: string;
}

interface Target {
  server: ListeningServer;
  agent: http.Agent;
}

/** Sends one request on the keep-alive agent and returns its status (the body is discarded). */
function send(target: Target, request: Request): Promise<number> {
  const headers: Record<string, string> = {};
  if (request.entityType !== undefined) headers['X-Entity-Type'] = request.entityType;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.server.port,
        method: request.method,
        path: request.path,
        headers,
        agent: target.agent,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** Sends every request, `concurrency` at a time; returns the statuses in order. */
async function sendAll(
  target: Target,
  requests: readonly Request[],
  concurrency = 16,
): Promise<number[]> {
  const statuses: number[] = new Array<number>(requests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      statuses[i] = await send(target, requests[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Let the server-side 'close' handlers of the last responses run before collecting.
  await new Promise((resolve) => setImmediate(resolve));
  return statuses;
}

interface App {
  metrics: ScanopyMetrics;
  target: Target;
  close(): Promise<void>;
}

/**
 * The preload's arrangement, by hand: `firstMiddleware()` first, then the service's auth (the
 * caller kind from a header into ctx.state.entityType) and its router.
 */
async function startApp(
  options: Parameters<typeof createMetrics>[0],
  mount: (router: Router) => void,
): Promise<App> {
  const metrics = createMetrics(options);
  const app = new Koa();
  app.use(metrics.firstMiddleware());
  app.use(async (ctx, next) => {
    const caller = ctx.get('x-entity-type');
    if (caller !== '') ctx.state.entityType = caller;
    await next();
  });
  const router = new Router();
  mount(router);
  app.use(router.routes());
  const server = await listen(app);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return {
    metrics,
    target: { server, agent },
    close: async () => {
      agent.destroy();
      await server.close();
      await metrics.shutdown();
    },
  };
}

/** Printable ASCII: what Node's client sends in a request target and its parser accepts. */
const urlChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const encodedByte = fc
  .integer({ min: 0, max: 255 })
  .map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`);
const segment = fc.oneof(
  fc.webSegment(),
  fc.string({ unit: urlChar, maxLength: 12 }),
  fc.array(encodedByte, { minLength: 1, maxLength: 6 }).map((bytes) => bytes.join('')),
);
const randomUrl = fc
  .tuple(
    fc.array(segment, { minLength: 1, maxLength: 6 }),
    fc.option(fc.oneof(fc.webQueryParameters(), fc.string({ unit: urlChar, maxLength: 20 })), {
      nil: undefined,
    }),
  )
  .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`);

/** A caller kind the service might leave in ctx.state: printable, not trimmed away by Node. */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));
const randomCaller = fc
  .string({ unit: headerChar, minLength: 1, maxLength: 30 })
  .filter((v) => v.trim() === v);

const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ maxLength: 30 }),
);

/** Methods Node's client can send; CONNECT is handled on its own (Node never hands it to Koa). */
const METHODS = http.METHODS.filter((m) => m !== 'CONNECT');

const CALLERS: ReadonlySet<string> = new Set(CALLER_KINDS);
const ENTITIES: ReadonlySet<string> = new Set(KNOWN_ENTITIES);
const OPERATIONS: ReadonlySet<string> = new Set(Object.values(KNOWN_OPERATIONS).flat());
const KINDS: ReadonlySet<string> = new Set(['entity', 'auth', 'telemetry']);

/** Samples of `name` as `[labels, value]`, sorted by their labels for comparison. */
function tally(text: string, name: string): [Record<string, string>, number][] {
  return series(text, name)
    .map((s): [Record<string, string>, number] => [s.labels, s.value])
    .sort((a, b) => JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0])));
}

function sorted(entries: [Record<string, string>, number][]): [Record<string, string>, number][] {
  return [...entries].sort((a, b) => JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0])));
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('cardinality cannot be attacked', () => {
  let app: App | undefined;
  let unsubscribe: (() => void) | undefined;
  afterEach(async () => {
    unsubscribe?.();
    unsubscribe = undefined;
    await app?.close();
    app = undefined;
  });

  it('10,000 random URLs × every method × 10,000 random caller kinds, and 12,000 random events add only fold-value series and the capped learned names, counting everything', async () => {
    const warnings: string[] = [];
    app = await startApp(
      { token: TOKEN, events: { warn: (line) => warnings.push(line) } },
      (router) => {
        router.get('/api/v1/hosts/:id', (ctx) => {
          ctx.body = 'host';
        });
      },
    );
    unsubscribe = app.metrics.subscribeToEventsChannel();

    // Distinct by construction (a counter in each), random otherwise; none names a route, the
    // metrics path or a known caller kind.
    const urls = fc
      .sample(randomUrl, { numRuns: ATTACK, seed: SEED })
      .map((url, i) => url.replace(/^\/[^/?#]*/, (first) => `${first}-${i.toString(36)}`))
      .map((url) => (/api|metrics/i.test(url) ? `/x${url}` : url));
    const callers = fc
      .sample(randomCaller, { numRuns: ATTACK, seed: SEED + 1 })
      .map((caller, i) => `${caller}~${i}`);
    expect(new Set(urls).size).to.equal(ATTACK);
    expect(new Set(callers).size).to.equal(ATTACK);
    expect(callers.some((c) => CALLERS.has(c))).to.equal(false);

    const requests: Request[] = urls.map((path, i) => ({
      method: METHODS[i % METHODS.length],
      path,
      entityType: callers[i],
    }));
    const statuses = await sendAll(app.target, requests);
    expect(countBy(statuses, String)).to.deep.equal(new Map([['404', ATTACK]]));

    // CONNECT: Node's server hands it to a 'connect' listener, never to Koa; without one it
    // closes the connection. Nothing is counted for it.
    for (let i = 0; i < 5; i++) {
      const failed = await send(app.target, { method: 'CONNECT', path: `127.0.0.1:${i + 1}` }).then(
        () => 'answered',
        (error: NodeJS.ErrnoException) => error.code,
      );
      expect(failed).to.equal('ECONNRESET');
    }

    // Events with random entity types, operations and kinds, half through recordEvent, half on
    // the diagnostics channel; none is in the vocabulary.
    const texts = fc
      .sample(fc.tuple(randomText, randomText, randomText), { numRuns: ATTACK, seed: SEED + 2 })
      .map(([a, b, c]) => [
        ENTITIES.has(a) ? `${a}!` : a,
        OPERATIONS.has(b) ? `${b}!` : b,
        KINDS.has(c) ? `${c}!` : c,
      ]);
    // Then new well-formed names, more than the caps: each is learned until its cap is reached.
    for (let i = 0; i < 2000; i++) texts.push([`Attack${i}`, `attack_${i}`, 'entity']);
    const channel = diagnosticsChannel.channel(EVENTS_CHANNEL);
    // The model of learning: a well-formed value not yet learned is learned while its label's
    // cap (100 entity types, 200 operations) allows, else counted as other.
    const learned = { entity: new Set<string>(), operation: new Set<string>() };
    const caps = { entity: 100, operation: 200 };
    const reserved = new Set(['other', 'unknown', 'auth', 'telemetry']);
    const labelOf = (label: 'entity' | 'operation', value: string): string => {
      if (learned[label].has(value)) return value;
      if (!LEARNABLE_VALUE.test(value) || reserved.has(value)) return 'other';
      if (learned[label].size >= caps[label]) return 'other';
      learned[label].add(value);
      return value;
    };
    const expectedEvents: string[] = [];
    texts.forEach(([entityType, operation, kind], i) => {
      const shape = i >= ATTACK ? 0 : i % 5;
      if (shape === 0) {
        app?.metrics.recordEvent({ kind: 'entity', entityType, operation });
        expectedEvents.push(`${labelOf('entity', entityType)}/${labelOf('operation', operation)}`);
      } else if (shape === 1) {
        channel.publish({ kind: 'entity', entityType, operation });
        expectedEvents.push(`${labelOf('entity', entityType)}/${labelOf('operation', operation)}`);
      } else if (shape === 2) {
        app?.metrics.recordEvent({ kind: 'auth', operation });
        expectedEvents.push(`auth/${labelOf('operation', operation)}`);
      } else if (shape === 3) {
        channel.publish([{ kind: 'telemetry', operation }]);
        expectedEvents.push(`telemetry/${labelOf('operation', operation)}`);
      } else {
        channel.publish({ kind, entityType, operation });
        expectedEvents.push('unknown/unknown');
      }
    });
    expect([learned.entity.size, learned.operation.size]).to.deep.equal([100, 200]);

    const text = await app.metrics.scrape();

    // HTTP: one series per method label (the 9 known methods Node lets through, QUERY included,
    // and _OTHER), all unmatched 404s of callers folded to `other`; the counts add up to every
    // request sent.
    const byMethod = countBy(requests, (r) => (KNOWN_METHODS.has(r.method) ? r.method : '_OTHER'));
    expect(byMethod.size).to.equal(10);
    expect(tally(text, 'http_requests_total')).to.deep.equal(
      sorted(
        [...byMethod].map(([method, n]) => [
          { method, path: 'unmatched', status: '404', entity_type: 'other' },
          n,
        ]),
      ),
    );
    expect(tally(text, 'http_request_duration_seconds_count')).to.deep.equal(
      sorted([...byMethod].map(([method, n]) => [{ method, path: 'unmatched' }, n])),
    );
    const total = (samples: Sample[]) => samples.reduce((sum, s) => sum + s.value, 0);
    expect(total(series(text, 'http_requests_total'))).to.equal(ATTACK);
    expect(total(series(text, 'http_request_duration_seconds_count'))).to.equal(ATTACK);
    expect(
      total(
        series(text, 'http_request_duration_seconds_bucket').filter((s) => s.labels.le === '+Inf'),
      ),
    ).to.equal(ATTACK);

    // Events: the series the model predicts, adding up to every event; one warning per cap.
    const byLabels = countBy(expectedEvents, (e) => e);
    expect(tally(text, 'scanopy_events_total')).to.deep.equal(
      sorted(
        [...byLabels].map(([labels, n]) => {
          const [entity, operation] = labels.split('/');
          return [{ entity, operation }, n];
        }),
      ),
    );
    expect(total(series(text, 'scanopy_events_total'))).to.equal(ATTACK + 2000);
    expect(series(text, 'scanopy_events_total')).to.have.length(byLabels.size);
    const entities = new Set(series(text, 'scanopy_events_total').map((s) => s.labels.entity));
    const operations = new Set(series(text, 'scanopy_events_total').map((s) => s.labels.operation));
    // At most the caps' worth of new names, plus the fixed values.
    expect(
      [...entities].filter((e) => !['other', 'unknown', 'auth', 'telemetry'].includes(e)),
    ).to.have.length(100);
    expect([...operations].filter((o) => !['other', 'unknown'].includes(o))).to.have.length(200);
    expect(warnings).to.have.length(2);
    const warned = (cap: string, setting: string) =>
      warnings.filter((w) => w.includes(cap) && w.includes(setting)).length;
    expect(warned('cap of 100', 'SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES')).to.equal(1);
    expect(warned('cap of 200', 'SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS')).to.equal(1);

    // The new HTTP metrics: nothing in flight, one size series per method label, on `unmatched`.
    expect(tally(text, 'http_requests_in_flight')).to.deep.equal(
      sorted([...byMethod].map(([method]) => [{ method, entity_type: 'anonymous' }, 0])),
    );
    for (const name of ['http_request_size_bytes_count', 'http_response_size_bytes_count']) {
      expect(tally(text, name)).to.deep.equal(
        sorted([...byMethod].map(([method, n]) => [{ method, path: 'unmatched' }, n])),
      );
    }

    // Every label value anywhere in the exposition is one of the fixed values.
    const allowed = new Set([
      ...byMethod.keys(),
      'unmatched',
      '404',
      'other',
      'unknown',
      'auth',
      'telemetry',
      // The overflow self-metric's `metric` label: the package's metric names.
      ...METRIC_NAMES,
      'anonymous',
      ...learned.entity,
      ...learned.operation,
    ]);
    for (const sample of parseExposition(text)) {
      if (sample.name === 'target_info') continue;
      for (const [name, value] of Object.entries(sample.labels)) {
        if (name === 'le') continue;
        expect(allowed.has(value), `${sample.name}{${name}="${value}"}`).to.equal(true);
      }
    }
  });

  it('a legitimate dimension over cardinalityLimit: 50 gives 49 route series + 1 overflow series per HTTP metric, and stays at 50', async () => {
    const ROUTES = 200;
    app = await startApp({ token: TOKEN, cardinalityLimit: 50 }, (router) => {
      for (let r = 0; r < ROUTES; r++) {
        router.get(`/r${r}/:id`, (ctx) => {
          ctx.body = 'ok';
        });
      }
    });
    const pattern = (r: number) => `/r${r}/:id`;

    // One request per route, in order, so that the first 49 routes get the 49 places.
    for (let r = 0; r < ROUTES; r++) {
      expect(await send(app.target, { method: 'GET', path: `/r${r}/${r * 7}` })).to.equal(200);
    }
    await new Promise((resolve) => setImmediate(resolve));
    const first = await app.metrics.scrape();
    const overflow = { otel_metric_overflow: 'true' };
    const expectedFirst = (
      labels: (r: number) => Record<string, string>,
    ): [Record<string, string>, number][] =>
      sorted([
        ...Array.from({ length: 49 }, (_, r): [Record<string, string>, number] => [labels(r), 1]),
        [overflow, ROUTES - 49],
      ]);
    expect(tally(first, 'http_requests_total')).to.deep.equal(
      expectedFirst((r) => ({
        method: 'GET',
        path: pattern(r),
        status: '200',
        entity_type: 'anonymous',
      })),
    );
    expect(tally(first, 'http_request_duration_seconds_count')).to.deep.equal(
      expectedFirst((r) => ({ method: 'GET', path: pattern(r) })),
    );
    expect(
      series(first, 'http_request_duration_seconds_bucket')
        .filter((s) => s.labels.otel_metric_overflow === 'true' && s.labels.le === '+Inf')
        .map((s) => s.value),
    ).to.deep.equal([ROUTES - 49]);

    // 10,000 more: random routes, plus unmatched URLs, other methods and caller kinds that are
    // new label sets; those all land in the overflow series, the rest on their route's series.
    const more = fc
      .sample(
        fc.tuple(fc.nat({ max: ROUTES - 1 }), fc.nat({ max: 9 }), fc.constantFrom(...METHODS)),
        { numRuns: ATTACK, seed: SEED + 3 },
      )
      .map(([r, kind, method]): Request => {
        if (kind === 0) return { method: 'GET', path: `/nowhere/${r}` };
        if (kind === 1) return { method, path: `/r${r}/x` };
        if (kind === 2) return { method: 'GET', path: `/r${r}/x`, entityType: 'daemon' };
        return { method: 'GET', path: `/r${r}/${kind}` };
      });
    const statuses = await sendAll(app.target, more);
    const text = await app.metrics.scrape();

    // The model: a request keeps its own series if its label set is one of the first 49.
    const kept = new Set(Array.from({ length: 49 }, (_, r) => pattern(r)));
    const requestKey = (m: Request, status: number) => {
      const route = /^\/r(\d+)\//.exec(m.path);
      const path =
        route && (m.method === 'GET' || m.method === 'HEAD')
          ? pattern(Number(route[1]))
          : 'unmatched';
      return { path, counted: m.method === 'GET' && status === 200 && m.entityType === undefined };
    };
    const perRoute = new Map<string, number>();
    let overflowed = ROUTES - 49;
    let durationOverflowed = ROUTES - 49;
    const perRouteDuration = new Map<string, number>();
    more.forEach((m, i) => {
      const { path, counted } = requestKey(m, statuses[i]);
      if (counted && kept.has(path)) perRoute.set(path, (perRoute.get(path) ?? 0) + 1);
      else overflowed++;
      if (m.method === 'GET' && kept.has(path))
        perRouteDuration.set(path, (perRouteDuration.get(path) ?? 0) + 1);
      else durationOverflowed++;
    });
    expect(tally(text, 'http_requests_total')).to.deep.equal(
      sorted([
        ...Array.from({ length: 49 }, (_, r): [Record<string, string>, number] => [
          { method: 'GET', path: pattern(r), status: '200', entity_type: 'anonymous' },
          1 + (perRoute.get(pattern(r)) ?? 0),
        ]),
        [overflow, overflowed],
      ]),
    );
    expect(tally(text, 'http_request_duration_seconds_count')).to.deep.equal(
      sorted([
        ...Array.from({ length: 49 }, (_, r): [Record<string, string>, number] => [
          { method: 'GET', path: pattern(r) },
          1 + (perRouteDuration.get(pattern(r)) ?? 0),
        ]),
        [overflow, durationOverflowed],
      ]),
    );
    // Nothing dropped: the series add up to every request.
    const sum = (name: string) => series(text, name).reduce((n, s) => n + s.value, 0);
    expect(sum('http_requests_total')).to.equal(ROUTES + ATTACK);
    expect(sum('http_request_duration_seconds_count')).to.equal(ROUTES + ATTACK);
    expect(series(text, 'http_requests_total')).to.have.length(50);
    expect(series(text, 'http_request_duration_seconds_count')).to.have.length(50);
    // The size histograms have the duration's labels: the same 49 + 1 series, the same counts.
    for (const name of ['http_request_size_bytes_count', 'http_response_size_bytes_count']) {
      expect(tally(text, name)).to.deep.equal(tally(text, 'http_request_duration_seconds_count'));
    }
  });
});
