// http_requests_in_flight over real sockets: N slow requests are N in flight, then 0; a request
// whose middleware threw, whose client left, or that never got an answer until its client left,
// comes down exactly once; under load with clients aborting at random it ends at 0, never below;
// a response that passes the same middleware twice is counted and taken off once.
import http from 'node:http';

import fc from 'fast-check';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';
import Koa from 'koa';

import { expect } from './helpers/chai';
import { series } from './helpers/exposition';
import { listen, type ListeningServer } from './helpers/server';
import { pollUntil } from './helpers/wait';

const IN_FLIGHT = 'http_requests_in_flight';

/** A gate the slow handlers wait on, and how many requests reached it. */
class Gate {
  arrived = 0;
  private opened = false;
  private waiters: (() => void)[] = [];
  private arrivals: (() => void)[] = [];

  wait(): Promise<void> {
    this.arrived++;
    for (const notify of this.arrivals.splice(0)) notify();
    if (this.opened) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async untilArrived(n: number): Promise<void> {
    while (this.arrived < n) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }

  open(): void {
    this.opened = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

interface App {
  metrics: ScanopyMetrics;
  server: ListeningServer;
  gate: Gate;
  /** Responses whose 'close' the service saw (after the package's own listener). */
  closed: number;
}

/**
 * The preload's arrangement by hand: firstMiddleware(), then the service's auth (caller kind
 * from a header), then handlers: /slow waits at the gate, /throw throws, /stream streams.
 */
async function startApp(): Promise<App> {
  const metrics = createMetrics({ token: 'in-flight-token' });
  const gate = new Gate();
  const app = new Koa();
  const state: App = { metrics, server: undefined as unknown as ListeningServer, gate, closed: 0 };
  app.silent = true;
  app.use(metrics.firstMiddleware());
  app.use(async (ctx, next) => {
    ctx.res.once('close', () => state.closed++);
    const caller = ctx.get('x-entity-type');
    if (caller !== '') ctx.state.entityType = caller;
    await next();
  });
  app.use(async (ctx) => {
    if (ctx.path === '/slow') {
      await gate.wait();
      ctx.body = 'done';
    } else if (ctx.path === '/throw') {
      throw new Error('the service failed');
    } else if (ctx.path === '/hang') {
      await gate.wait();
      await new Promise<void>(() => undefined);
    } else {
      ctx.body = 'fast';
    }
  });
  state.server = await listen(app);
  return state;
}

function inFlight(text: string): [Record<string, string>, number][] {
  return series(text, IN_FLIGHT).map((s): [Record<string, string>, number] => [s.labels, s.value]);
}

/** Sends a request; resolves with the status, or with the error code if the exchange failed. */
function send(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; agent?: http.Agent } = {},
): { done: Promise<number | string>; request: http.ClientRequest } {
  const request = http.request(`${url}${path}`, {
    method: options.method ?? 'GET',
    headers: options.headers,
    agent: options.agent ?? false,
  });
  const done = new Promise<number | string>((resolve) => {
    request.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve('response error'));
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  request.end();
  return { done, request };
}

describe('http_requests_in_flight', () => {
  let app: App | undefined;
  afterEach(async () => {
    app?.gate.open();
    await app?.server.close();
    await app?.metrics.shutdown();
    app = undefined;
  });

  it('is a gauge of {method, entity_type}, described in the exposition', async () => {
    app = await startApp();
    const text = await app.metrics.scrape();
    expect(text).to.contain(`# TYPE ${IN_FLIGHT} gauge\n`);
    expect(text).to.contain(`# HELP ${IN_FLIGHT} Number of HTTP requests in flight\n`);
  });

  for (const n of [1, 7, 25]) {
    it(`${n} concurrent slow requests are ${n} in flight, then 0`, async () => {
      app = await startApp();
      const url = app.server.url;
      const requests = Array.from({ length: n }, () => send(url, '/slow'));
      await app.gate.untilArrived(n);
      // The in-process scrape is not a request: the gauge holds exactly the slow ones.
      expect(inFlight(await app.metrics.scrape())).to.deep.equal([
        [{ method: 'GET', entity_type: 'anonymous' }, n],
      ]);
      app.gate.open();
      expect(await Promise.all(requests.map((r) => r.done))).to.deep.equal(
        new Array<number>(n).fill(200),
      );
      const done = app;
      await pollUntil('every response closed', () => Promise.resolve(done.closed === n));
      expect(inFlight(await app.metrics.scrape())).to.deep.equal([
        [{ method: 'GET', entity_type: 'anonymous' }, 0],
      ]);
    });
  }

  it('labels a request with the caller kind known on arrival, and takes it off the same series', async () => {
    app = await startApp();
    // The service's auth runs after the package's middleware, so on arrival nobody is
    // authenticated yet: every request is in flight as `anonymous`, whatever its caller.
    const requests = [
      send(app.server.url, '/slow', { headers: { 'x-entity-type': 'daemon' } }),
      send(app.server.url, '/slow', { method: 'POST', headers: { 'x-entity-type': 'user' } }),
      send(app.server.url, '/slow', { method: 'POST' }),
    ];
    await app.gate.untilArrived(3);
    const during = inFlight(await app.metrics.scrape()).sort((a, b) =>
      a[0].method.localeCompare(b[0].method),
    );
    expect(during).to.deep.equal([
      [{ method: 'GET', entity_type: 'anonymous' }, 1],
      [{ method: 'POST', entity_type: 'anonymous' }, 2],
    ]);
    app.gate.open();
    await Promise.all(requests.map((r) => r.done));
    const done = app;
    await pollUntil('every response closed', () => Promise.resolve(done.closed === 3));
    const after = await app.metrics.scrape();
    expect(inFlight(after).map(([, v]) => v)).to.deep.equal([0, 0]);
    // The request counter, read after auth, still has the real callers.
    expect(
      series(after, 'http_requests_total')
        .map((s) => s.labels.entity_type)
        .sort(),
    ).to.deep.equal(['anonymous', 'daemon', 'user']);
  });

  it('comes down once for a thrown middleware (500), a client that left mid-request, and a request never answered', async () => {
    app = await startApp();
    const url = app.server.url;
    const thrown = send(url, '/throw');
    expect(await thrown.done).to.equal(500);
    // A client that leaves while its request waits, and one whose request would never be
    // answered: both are in flight until their connection closes.
    const left = send(url, '/slow');
    const hung = send(url, '/hang');
    await app.gate.untilArrived(2);
    expect(inFlight(await app.metrics.scrape())).to.deep.equal([
      [{ method: 'GET', entity_type: 'anonymous' }, 2],
    ]);
    left.request.destroy();
    hung.request.destroy();
    expect(await left.done).to.equal('ECONNRESET');
    expect(await hung.done).to.equal('ECONNRESET');
    const done = app;
    await pollUntil('every response closed', () => Promise.resolve(done.closed === 3));
    // The gate opens after the client left: the service answers into a closed connection.
    app.gate.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight(await app.metrics.scrape())).to.deep.equal([
      [{ method: 'GET', entity_type: 'anonymous' }, 0],
    ]);
    const text = await app.metrics.scrape();
    expect(
      series(text, 'http_requests_total')
        .map((s) => [s.labels.status, s.value])
        .sort(),
    ).to.deep.equal([
      ['499', 2],
      ['500', 1],
    ]);
  });

  it('under load with clients aborting at random, never goes below 0 and ends at exactly 0', async () => {
    app = await startApp();
    app.gate.open();
    const url = app.server.url;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    // 1,500 requests: fast ones, thrown ones, and ones whose client aborts after 0-3 turns of
    // the event loop (before, during or after the service's answer).
    const plan = fc.sample(
      fc.record({
        path: fc.constantFrom('/fast', '/throw', '/slow'),
        abortAfter: fc.option(fc.nat({ max: 3 }), { nil: undefined, freq: 2 }),
        method: fc.constantFrom('GET', 'POST', 'DELETE'),
      }),
      { numRuns: 1500, seed: 11_2026 },
    );
    const samples: number[] = [];
    const live = app;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [, value] of inFlight(await live.metrics.scrape())) samples.push(value);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const step = plan[next++];
        const { done, request } = send(url, step.path, { method: step.method, agent });
        if (step.abortAfter !== undefined) {
          for (let i = 0; i < step.abortAfter; i++) await new Promise((r) => setImmediate(r));
          request.destroy();
        }
        await done;
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    agent.destroy();
    // Every request that reached Koa is either counted already or about to be, once its
    // connection's close reaches the server.
    await pollUntil('every request counted', async () => {
      const text = await live.metrics.scrape();
      const counted = series(text, 'http_requests_total').reduce((n, s) => n + s.value, 0);
      return counted === live.closed;
    });
    sampling = false;
    await sampler;
    const text = await app.metrics.scrape();
    const gauge = inFlight(text);
    expect(gauge.length).to.be.greaterThan(0);
    expect(gauge.map(([, v]) => v)).to.deep.equal(new Array<number>(gauge.length).fill(0));
    expect(samples.length).to.be.greaterThan(0);
    expect(samples.filter((v) => v < 0 || v > 32)).to.deep.equal([]);
    // Every request that reached the service was counted once, and aborts were among them.
    const statuses = new Set(series(text, 'http_requests_total').map((s) => s.labels.status));
    expect([...statuses].sort()).to.include.members(['200', '500']);
  });

  it('counts a request once, and takes it off once, when the same middleware is in its chain twice', async () => {
    const metrics = createMetrics({ token: 'in-flight-token' });
    const recording = metrics.firstMiddleware();
    const inner = new Koa();
    inner.use(recording);
    inner.use((ctx) => {
      ctx.body = 'inner';
    });
    const handleInner = inner.callback();
    let closed: Promise<void> | undefined;
    const outer = new Koa();
    outer.silent = true;
    outer.use(recording);
    // An application served by hand inside another's middleware: the same request and
    // response go through the same recording middleware again.
    outer.use((ctx) => {
      closed = new Promise((resolve) => ctx.res.once('close', () => setImmediate(resolve)));
      ctx.respond = false;
      return handleInner(ctx.req, ctx.res);
    });
    const server = await listen(outer);
    try {
      expect(await send(server.url, '/x').done).to.equal(200);
      await closed;
      const text = await metrics.scrape();
      expect(series(text, 'http_requests_total').map((s) => s.value)).to.deep.equal([1]);
      expect(inFlight(text)).to.deep.equal([[{ method: 'GET', entity_type: 'anonymous' }, 0]]);
    } finally {
      await server.close();
      await metrics.shutdown();
    }
  });
});
