// The path label with every router a Koa service may use: @koa/router 8 to 15 and the legacy
// koa-router package. Each gets the same routes, and the label must be the pattern of the route
// that served the request: the first route whose path and method match (`/post/new` registered
// before `/post/:id`), or the one an exclusive router picks; also when router-level middleware
// answered before the route ran, when the method was not allowed, under prefixes and nested
// routers.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import type Koa from 'koa';

import { expect } from './helpers/chai';
import { REPO } from './helpers/child';
import { series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

/** What these tests use of a router, the same in every version. */
type RouteContext = Koa.Context & { params: Record<string, string> };
interface Router {
  get(path: string, handler: (ctx: RouteContext) => void): Router;
  use(...args: unknown[]): Router;
  routes(): Koa.Middleware;
  allowedMethods(): Koa.Middleware;
}
type RouterClass = new (options?: { prefix?: string; exclusive?: boolean }) => Router;

const load = createRequire(__filename);
function routerClass(name: string): RouterClass {
  const exports = load(name) as RouterClass | { default: RouterClass };
  return 'default' in exports ? exports.default : exports;
}

const ROUTERS: { title: string; module: string; version: string; exclusive: boolean }[] = [
  { title: '@koa/router 8', module: 'koa-router-8', version: '8.0.8', exclusive: false },
  { title: '@koa/router 10', module: 'koa-router-10', version: '10.1.1', exclusive: false },
  { title: '@koa/router 12', module: 'koa-router-12', version: '12.0.2', exclusive: true },
  { title: '@koa/router 13', module: 'koa-router-13', version: '13.1.1', exclusive: true },
  { title: '@koa/router 15', module: '@koa/router', version: '15.7.0', exclusive: true },
  { title: 'koa-router 7 (legacy)', module: 'koa-router', version: '7.4.0', exclusive: false },
];

function mount(Router: RouterClass, app: Koa): void {
  const posts = new Router();
  posts.get('/post/new', (ctx) => {
    ctx.body = 'new post form';
  });
  posts.get('/post/:id', (ctx) => {
    ctx.body = `post ${ctx.params.id}`;
  });
  app.use(posts.routes());
  app.use(posts.allowedMethods());

  const interfaces = new Router();
  interfaces.get('/:interfaceId', (ctx) => {
    ctx.body = `interface ${ctx.params.interfaceId}`;
  });
  const hosts = new Router();
  hosts.get('/:id', (ctx) => {
    ctx.body = `host ${ctx.params.id}`;
  });
  hosts.use('/:id/interfaces', interfaces.routes(), interfaces.allowedMethods());
  const api = new Router({ prefix: '/api/v1' });
  // An auth middleware at router level: it answers before any route of the router runs.
  const auth: Koa.Middleware = (ctx, next) => {
    if (ctx.get('x-deny') === '') return next();
    ctx.status = 401;
    ctx.body = 'denied';
  };
  api.use(auth);
  api.use('/hosts', hosts.routes(), hosts.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
}

async function send(
  url: string,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const response = await rawRequest(url, { method, path, headers });
  return { status: response.status, body: response.body };
}

const requests = (method: string, path: string, status: string, value: number) => ({
  name: 'http_requests_total',
  labels: { method, path, status, entity_type: 'anonymous' },
  value,
});

for (const router of ROUTERS) {
  describe(`path label with ${router.title}`, () => {
    const Router = routerClass(router.module);
    let server: MetricsApp | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it(`is the version this test means (${router.version})`, () => {
      // Read from disk: @koa/router 15 exports no ./package.json.
      const file = path.join(REPO, 'node_modules', router.module, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
      expect(pkg.version).to.equal(router.version);
    });

    it('is the pattern of the route that served: /post/new before /post/:id', async () => {
      server = await startMetricsApp((app) => mount(Router, app));
      expect(await send(server.url, '/post/new')).to.deep.equal({
        status: 200,
        body: 'new post form',
      });
      expect(await send(server.url, '/post/new')).to.deep.equal({
        status: 200,
        body: 'new post form',
      });
      expect(await send(server.url, '/post/7')).to.deep.equal({ status: 200, body: 'post 7' });
      expect((await send(server.url, '/post/new', 'HEAD')).status).to.equal(200);
      const text = await server.scrape();
      expect(series(text, 'http_requests_total')).to.have.deep.members([
        requests('GET', '/post/new', '200', 2),
        requests('GET', '/post/:id', '200', 1),
        requests('HEAD', '/post/new', '200', 1),
      ]);
      expect(series(text, 'http_requests_total')).to.have.length(3);
    });

    it('keeps prefixes and nested routers, router-level 401, 405 and unmatched', async () => {
      server = await startMetricsApp((app) => mount(Router, app));
      expect(await send(server.url, '/api/v1/hosts/42')).to.deep.equal({
        status: 200,
        body: 'host 42',
      });
      expect(await send(server.url, '/api/v1/hosts/42/interfaces/7')).to.deep.equal({
        status: 200,
        body: 'interface 7',
      });
      expect(await send(server.url, '/api/v1/hosts/42', 'GET', { 'x-deny': '1' })).to.deep.equal({
        status: 401,
        body: 'denied',
      });
      expect((await send(server.url, '/api/v1/hosts/42', 'PATCH')).status).to.equal(405);
      expect((await send(server.url, '/post/new', 'POST')).status).to.equal(405);
      expect((await send(server.url, '/api/v1/nope')).status).to.equal(404);
      expect((await send(server.url, '/post')).status).to.equal(404);
      const text = await server.scrape();
      expect(series(text, 'http_requests_total')).to.have.deep.members([
        requests('GET', '/api/v1/hosts/:id', '200', 1),
        requests('GET', '/api/v1/hosts/:id/interfaces/:interfaceId', '200', 1),
        requests('GET', '/api/v1/hosts/:id', '401', 1),
        requests('PATCH', '/api/v1/hosts/:id', '405', 1),
        requests('POST', '/post/new', '405', 1),
        requests('GET', 'unmatched', '404', 2),
      ]);
      expect(series(text, 'http_requests_total')).to.have.length(6);
    });

    if (router.exclusive) {
      it('is the route an exclusive router runs, the last one matching', async () => {
        server = await startMetricsApp((app) => {
          const posts = new Router({ exclusive: true });
          posts.get('/post/new', (ctx) => {
            ctx.body = 'new post form';
          });
          posts.get('/post/:id', (ctx) => {
            ctx.body = `post ${ctx.params.id}`;
          });
          app.use(posts.routes());
        });
        expect(await send(server.url, '/post/new')).to.deep.equal({
          status: 200,
          body: 'post new',
        });
        const text = await server.scrape();
        expect(series(text, 'http_requests_total')).to.deep.equal([
          requests('GET', '/post/:id', '200', 1),
        ]);
      });
    }
  });
}
