// Path variants of the metrics route through the preload's first middleware, in front of a Koa
// service with its own router and catch-all: only the exact path (any query string) is the route;
// every variant goes to the service, never to the metrics text, whatever token it carries.
import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'paths-token-0e6a93';
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const SERVICE_404 = 'service 404';

/**
 * Sends `target` as the request target exactly as written (fetch and `new URL` would normalize
 * `//metrics` or dot segments away before sending).
 */
function send(server: ListeningServer, target: string, token?: string): Promise<RawResponse> {
  const headers: Record<string, string> =
    token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return rawRequest(server.url, { path: target, headers, verbatimPath: true });
}

interface Service {
  metrics: ScanopyMetrics;
  server: ListeningServer;
  /** The paths the service's own middleware saw (what passed the metrics middleware). */
  seen: string[];
}

/**
 * The preload's arrangement: `firstMiddleware()` first, then the service: a router of its own
 * (with a route near the metrics path) and a catch-all answering 404 `service 404`.
 */
async function startService(path?: string, authFailuresPerMinute?: number): Promise<Service> {
  const metrics = createMetrics({ token: TOKEN, path, authFailuresPerMinute });
  const app = new Koa();
  app.use(metrics.firstMiddleware());
  const seen: string[] = [];
  app.use(async (ctx, next) => {
    seen.push(ctx.path);
    await next();
  });
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = 'ok';
  });
  router.get('/metrics-info', (ctx) => {
    ctx.body = 'the service’s own route';
  });
  app.use(router.routes());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = SERVICE_404;
  });
  return { metrics, server: await listen(app), seen };
}

function expectRoute401(answer: RawResponse, what: string): void {
  expect(answer.status, what).to.equal(401);
  expect(answer.body, what).to.equal('Invalid or missing token');
  expect(answer.headers['www-authenticate'], what).to.equal('Bearer');
}

function expectRoute200(answer: RawResponse, what: string): void {
  expect(answer.status, what).to.equal(200);
  expect(answer.headers['content-type'], what).to.equal(CONTENT_TYPE);
  expect(answer.body, what).to.contain('# TYPE http_requests_total counter\n');
}

function expectService404(answer: RawResponse, what: string): void {
  expect(answer.status, what).to.equal(404);
  expect(answer.body, what).to.equal(SERVICE_404);
  expect(answer.headers['content-type'], what).to.not.equal(CONTENT_TYPE);
  expect(answer.headers['www-authenticate'], what).to.equal(undefined);
}

/** Targets that are the route: the exact path with a query string (or an absolute-form URL). */
function routeTargets(path: string, port: number): string[] {
  return [
    path,
    `${path}?x=1`,
    `${path}?`,
    `${path}?format=text&x=${encodeURIComponent(path)}`,
    // A fragment is not part of the path (clients do not send one; if one is sent, it is the route).
    `${path}#x`,
    // Absolute form (RFC 9112 3.2.2): the path of the URL is the exact path, whatever the host.
    `http://127.0.0.1:${port}${path}`,
    `http://other.example${path}?x=1`,
  ];
}

/** Variants of `path` (which starts with `/`) that are not the route. */
function variants(path: string): string[] {
  const name = path.slice(1);
  const first = name.charCodeAt(0).toString(16).toUpperCase();
  const list = [
    `${path}/`,
    `${path}/?x=1`,
    path.toUpperCase(),
    `/${name[0].toUpperCase()}${name.slice(1)}`,
    `/${path}`,
    `${path.replace(/\//g, '//')}`,
    `/%${first}${name.slice(1)}`,
    `/%${first.toLowerCase()}${name.slice(1)}`,
    `${path}%2F`,
    `${path}%2f`,
    `${path};x`,
    `${path};`,
    `${path}%3Fx=1`,
    `${path}%20`,
    `${path}%00`,
    `${path}.`,
    `${path}..`,
    `/.${path}`,
    `/./${name}`,
    `/x/..${path}`,
    `${path}/.`,
    `${path}/..`,
    `${path}-x`,
    `${path}x`,
    path.slice(0, -1),
    `/\\${name}`,
    `/${name.replace(/\//g, '%2F')}`,
  ];
  return [...new Set(list)].filter((v) => v !== path);
}

/** A printable ASCII character: what Node's client sends and its parser accepts in a target. */
const urlChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));

type Edit = (text: string) => string;
const at = (text: string, i: number) => i % (text.length + 1);
/** One edit of a target: insert, delete or replace a character, percent-encode one, flip a case. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.nat(), urlChar).map(
    ([i, c]): Edit =>
      (t) =>
        t.slice(0, at(t, i)) + c + t.slice(at(t, i)),
  ),
  fc.nat().map(
    (i): Edit =>
      (t) =>
        t.slice(0, at(t, i)) + t.slice(at(t, i) + 1),
  ),
  fc.tuple(fc.nat(), urlChar).map(
    ([i, c]): Edit =>
      (t) =>
        t.slice(0, at(t, i)) + c + t.slice(at(t, i) + 1),
  ),
  fc.nat().map((i): Edit => (t) => {
    const j = at(t, i);
    if (j >= t.length) return t;
    const hex = t.charCodeAt(j).toString(16).padStart(2, '0');
    return `${t.slice(0, j)}%${hex}${t.slice(j + 1)}`;
  }),
  fc.nat().map((i): Edit => (t) => {
    const j = at(t, i);
    const c = t.charAt(j);
    const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    return t.slice(0, j) + flipped + t.slice(j + 1);
  }),
);

/** `/metrics` after 0 to 3 edits, with or without a query string or fragment. */
const nearTarget = fc
  .tuple(
    fc.array(edit, { maxLength: 3 }),
    fc.oneof(
      fc.constant(''),
      fc.string({ unit: urlChar, maxLength: 8 }).map((q) => `?${q}`),
      fc.constant('#f'),
    ),
  )
  .map(([edits, suffix]) => edits.reduce((t, e) => e(t), '/metrics') + suffix);

describe('metrics route: path variants through the first middleware', () => {
  const services: Service[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) {
      await s.server.close();
      await s.metrics.shutdown();
    }
  });
  async function start(path?: string, authFailuresPerMinute?: number): Promise<Service> {
    const service = await startService(path, authFailuresPerMinute);
    services.push(service);
    return service;
  }

  for (const path of [undefined, '/internal/prometheus']) {
    const routePath = path ?? '/metrics';
    describe(path === undefined ? 'default path /metrics' : `custom path ${path}`, () => {
      it(`${routePath} with a query string (or as an absolute URL) is the route: 401 without the token, 200 with it`, async () => {
        const { server, seen } = await start(path);
        for (const target of routeTargets(routePath, server.port)) {
          expectRoute401(await send(server, target), `${target} without token`);
          expectRoute401(await send(server, target, 'wrong'), `${target} with a wrong token`);
          expectRoute200(await send(server, target, TOKEN), `${target} with the token`);
        }
        // None of them reached the service.
        expect(seen).to.deep.equal([]);
      });

      it('every other spelling goes to the service and never gets the metrics text, even with the token', async () => {
        const { metrics, server, seen } = await start(path);
        const targets = variants(routePath);
        for (const target of targets) {
          expectService404(await send(server, target), `${target} without token`);
          expectService404(await send(server, target, TOKEN), `${target} with the token`);
        }
        expect(seen).to.have.length(targets.length * 2);
        expect(seen).to.not.include(routePath);
        // All counted as unmatched requests of the service: no variant became a path label.
        const text = await metrics.scrape();
        expect(series(text, 'http_requests_total')).to.deep.equal([
          {
            name: 'http_requests_total',
            labels: { method: 'GET', path: 'unmatched', status: '404', entity_type: 'anonymous' },
            value: targets.length * 2,
          },
        ]);
      });
    });
  }

  it('with a custom path, /metrics belongs to the service, token or not', async () => {
    const { server } = await start('/internal/prometheus');
    for (const target of ['/metrics', '/metrics?x=1', '/internal', '/internal/', '/prometheus']) {
      expectService404(await send(server, target), target);
      expectService404(await send(server, target, TOKEN), `${target} with the token`);
    }
  });

  it('property: an edited /metrics is the route exactly when its path (before ? or #) is /metrics', async () => {
    // Limit off: the property sends a few hundred tokenless requests from one address, and the
    // 31st refused one would get 429 (the limit has its own tests in route-rate-limit.test.ts).
    const { server } = await start(undefined, 0);
    let routed = 0;
    await fc.assert(
      fc.asyncProperty(nearTarget, async (target) => {
        const without = await send(server, target);
        const withToken = await send(server, target, TOKEN);
        if (target.split(/[?#]/)[0] === '/metrics') {
          routed++;
          expectRoute401(without, target);
          expectRoute200(withToken, target);
        } else if (target.startsWith('/')) {
          expectService404(without, target);
          expectService404(withToken, target);
        } else {
          // Not origin-form: Node's parser refuses it (400) before any middleware runs, or
          // (`*metrics`, asterisk-form) the service gets it; never the route.
          for (const answer of [without, withToken]) {
            if (answer.status === 400) expect(answer.body, target).to.equal('');
            else expectService404(answer, target);
          }
        }
      }),
      { numRuns: 300 },
    );
    expect(routed).to.be.greaterThan(10);
  });

  it('a service route whose name starts like the metrics path is the service’s', async () => {
    const { server } = await start();
    const answer = await send(server, '/metrics-info', TOKEN);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal('the service’s own route');
  });
});
