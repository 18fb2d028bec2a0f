// The koa patch on its own: a Koa with `handleRequest` (2.4 on) is recorded there and keeps its
// middleware chain; a Koa without it (2.0 to 2.3, whose callback() runs the middleware itself)
// gets the middleware first instead, rather than being marked instrumented and recording nothing.
import Koa from 'koa';
import { expect } from './helpers/chai';
import { patchApplication, type KoaMethod, type Wrap } from '../src/preload/koa-patch';
import type { KoaMiddleware, RequestStart } from '../src/types';

/** Wraps the method on the class's own prototype, as the preload's hooks do. */
const wrap: Wrap = (proto, name, wrapper) => {
  const methods = proto as unknown as Record<string, KoaMethod>;
  methods[name] = wrapper(methods[name]);
};

const fallback: KoaMiddleware = (_ctx, next) => next().then(() => undefined);

describe('koa patch', () => {
  it('records a Koa with handleRequest there: the start sees each request, the chain is unchanged', async () => {
    class App extends Koa {}
    const started: string[] = [];
    const requestStart: RequestStart = (ctx, appMiddleware) => {
      started.push(ctx.path);
      return appMiddleware;
    };
    let instrumented = 0;
    patchApplication(
      App,
      {
        isEnabled: () => true,
        requestStart,
        middleware: () => fallback,
        instrumented: () => instrumented++,
      },
      wrap,
    );
    const app = new App();
    app.use((ctx) => {
      ctx.body = 'ok';
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      expect(await (await fetch(`http://127.0.0.1:${port}/a`)).text()).to.equal('ok');
      expect(await (await fetch(`http://127.0.0.1:${port}/b`)).text()).to.equal('ok');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(started).to.deep.equal(['/a', '/b']);
    expect(app.middleware).to.have.length(1);
    expect(instrumented).to.equal(1);
  });

  it('puts the middleware first in a Koa without handleRequest, as koa 2.0 to 2.3 are', () => {
    class OldApp {
      middleware: unknown[] = ['service'];
      callback(): string {
        return `composed ${this.middleware.length}`;
      }
    }
    let started = 0;
    let instrumented = 0;
    patchApplication(
      OldApp,
      {
        isEnabled: () => true,
        requestStart: (_ctx, appMiddleware) => {
          started++;
          return appMiddleware;
        },
        middleware: () => fallback,
        instrumented: () => instrumented++,
      },
      wrap,
    );
    const app = new OldApp();
    expect(app.callback()).to.equal('composed 2');
    expect(app.middleware).to.deep.equal([fallback, 'service']);
    // Once per application, however often it is served.
    expect(app.callback()).to.equal('composed 2');
    expect(instrumented).to.equal(1);
    expect(started).to.equal(0);
  });
});
