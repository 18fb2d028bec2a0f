// The metrics route answers without giving the objects of its request a shape that no other
// request has. A property only the scraper's connection had (the address cache that
// socket.remoteAddress writes), or Koa's response fields set in another order (the status before
// the body), made V8 meet hidden classes it had not seen at every scrape, throw away the
// optimised code of Node's and Koa's HTTP functions, and do so again when that class died in a
// full collection. Here the connection's socket and Koa's response object of each kind of answer
// of the route are compared with those of a service's own JSON request, over real connections.
import Koa from 'koa';
import { createMetrics, type ScanopyMetrics } from 'scanopy-metrics';
import { expect } from './helpers/chai';
import { requestsTotal } from './helpers/exposition';
import { rawRequest, scrape } from './helpers/http';
import { listen, type ListeningServer } from './helpers/server';

const TOKEN = 'shape-test-token-9c1e4f';

/** Own keys of an object, in the order they were added (its hidden class follows that order). */
function addedKeys(object: object): string[] {
  return Reflect.ownKeys(object).map((key) => String(key));
}

interface Shapes {
  /** The socket's own keys, sorted: whether one has a property the other has not. */
  socket: string[];
  /**
   * Koa's response object's own keys in the order they were added: for objects of one
   * prototype, that order is what their hidden class follows.
   */
  response: string[];
}

describe('metrics route: the shapes of its request objects', () => {
  let metrics: ScanopyMetrics;
  let server: ListeningServer;
  const seen = new Map<string, Shapes>();

  before(async () => {
    metrics = createMetrics({ token: TOKEN });
    const app = new Koa();
    // First, to see every request, the route's included; it reads nothing that writes a cache.
    app.use(async (ctx, next) => {
      const name = String(ctx.get('X-Case'));
      const socket = ctx.req.socket;
      const response = ctx.response;
      ctx.res.once('finish', () => {
        seen.set(name, {
          socket: Reflect.ownKeys(socket)
            .map((key) => String(key))
            .sort(),
          response: addedKeys(response),
        });
      });
      await next();
    });
    app.use(metrics.middleware());
    app.use(metrics.route());
    app.use((ctx) => {
      ctx.body = { success: true, data: { id: 'h1' } };
    });
    server = await listen(app);
  });
  after(async () => {
    await server.close();
    await metrics.shutdown();
  });

  async function send(name: string, method: string, path: string, headers = {}): Promise<number> {
    const response = await rawRequest(server.url, {
      method,
      path,
      headers: { 'X-Case': name, ...headers },
    });
    return response.status;
  }

  it('answers 401, 405 and 200 with the socket and response shapes of a service request', async () => {
    expect(await send('service', 'GET', '/api/v1/hosts/h1')).to.equal(200);
    expect(await send('no token', 'GET', '/metrics')).to.equal(401);
    expect(await send('wrong token', 'GET', '/metrics', { Authorization: 'Bearer nope' })).to.equal(
      401,
    );
    expect(await send('POST', 'POST', '/metrics')).to.equal(405);
    const authorized = { Authorization: `Bearer ${TOKEN}` };
    expect(await send('scrape', 'GET', '/metrics', authorized)).to.equal(200);
    expect(
      await send('gzip scrape', 'GET', '/metrics', { ...authorized, 'Accept-Encoding': 'gzip' }),
    ).to.equal(200);

    const service = seen.get('service');
    expect(service?.response).to.include('_body');
    for (const name of ['no token', 'wrong token', 'POST', 'scrape', 'gzip scrape']) {
      expect(seen.get(name), name).to.deep.equal(service);
    }
  });
});

// The preload's wiring (and firstMiddleware's): the package's recorder is told the route's path,
// so the route writes nothing to the request's context either; wired by hand, the route leaves
// `_matchedRoute` for whatever recorder the service has, as @koa/router does.
describe("metrics route through the package's first middleware: the request context", () => {
  let metrics: ScanopyMetrics;
  let server: ListeningServer;
  const contexts = new Map<string, string[]>();

  before(async () => {
    metrics = createMetrics({ token: TOKEN });
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = { success: true, data: [] };
    });
    app.middleware.unshift(metrics.firstMiddleware());
    // Before the package's, to see the route's requests too.
    app.middleware.unshift(async (ctx: Koa.Context, next: Koa.Next) => {
      const name = String(ctx.get('X-Case'));
      ctx.res.once('finish', () => contexts.set(name, addedKeys(ctx)));
      await next();
    });
    server = await listen(app);
  });
  after(async () => {
    await server.close();
    await metrics.shutdown();
  });

  it('leaves the context of every answer the shape of an unrouted service request, and labels it /metrics', async () => {
    const send = async (name: string, headers: Record<string, string> = {}, path = '/metrics') =>
      (await rawRequest(server.url, { path, headers: { 'X-Case': name, ...headers } })).status;
    expect(await send('service', {}, '/api/v1/things')).to.equal(200);
    expect(await send('no token')).to.equal(401);
    expect(await send('scrape', { Authorization: `Bearer ${TOKEN}` })).to.equal(200);
    const service = contexts.get('service');
    expect(service).to.include('state');
    expect(service).to.not.include('_matchedRoute');
    expect(contexts.get('no token')).to.deep.equal(service);
    expect(contexts.get('scrape')).to.deep.equal(service);

    const text = await scrape(server.url, TOKEN);
    expect(requestsTotal(text, 'GET', '/metrics', '401')).to.equal(1);
    expect(requestsTotal(text, 'GET', '/metrics', '200')).to.equal(1);
  });
});

// Koa's context delegates `body`, `status`, `set()`, `method`... to its request and response
// through accessors that share one keyed access: names the route used and the service's requests
// did not made that access megamorphic for every request after the first scrape.
describe('metrics route: the context delegates it uses', () => {
  const DELEGATED = ['body', 'status', 'set', 'get', 'method', 'path', 'length', 'type', 'message'];
  let metrics: ScanopyMetrics;
  let server: ListeningServer;
  const used: string[] = [];

  before(async () => {
    metrics = createMetrics({ token: TOKEN });
    const app = new Koa();
    app.middleware.unshift(metrics.firstMiddleware());
    // Before the package's: every delegated accessor of this request's context reports its use
    // until the middleware (the route included) is done; Koa's own respond() comes after.
    app.middleware.unshift(async (ctx: Koa.Context, next: Koa.Next) => {
      let watching = true;
      for (const name of DELEGATED) {
        const proto = Object.getPrototypeOf(ctx) as object;
        const inherited = Object.getOwnPropertyDescriptor(
          Object.getPrototypeOf(proto) as object,
          name,
        );
        if (inherited === undefined) throw new Error(`Koa's context has no ${name}`);
        Object.defineProperty(ctx, name, {
          configurable: true,
          get() {
            if (watching) used.push(`get ${name}`);
            return inherited.get
              ? (inherited.get.call(ctx) as unknown)
              : (inherited.value as unknown);
          },
          set(value: unknown) {
            if (watching) used.push(`set ${name}`);
            inherited.set?.call(ctx, value);
          },
        });
      }
      await next();
      watching = false;
    });
    server = await listen(app);
  });
  after(async () => {
    await server.close();
    await metrics.shutdown();
  });

  it('answers 401, 405 and 200 (gzip and identity) through ctx.request and ctx.response only', async () => {
    const authorized = { Authorization: `Bearer ${TOKEN}` };
    const cases: [Record<string, string>, string, number][] = [
      [{}, 'GET', 401],
      [{}, 'POST', 405],
      [authorized, 'GET', 200],
      [{ ...authorized, 'Accept-Encoding': 'gzip' }, 'GET', 200],
      [authorized, 'HEAD', 200],
    ];
    for (const [headers, method, status] of cases) {
      const response = await rawRequest(server.url, { method, path: '/metrics', headers });
      expect(response.status, `${method} ${JSON.stringify(headers)}`).to.equal(status);
    }
    expect(used).to.deep.equal([]);
  });
});
