// The status label is what the client received, including when downstream middleware throws; the
// error still reaches Koa's own error handling unchanged.
import Router from '@koa/router';

import { expect } from './helpers/chai';
import { sample, series } from './helpers/exposition';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

const teapot = Object.assign(new Error('short and stout'), { status: 418 });
const boom = new Error('boom');
const badStatus = Object.assign(new Error('odd'), { status: 999 });

async function send(url: string, method = 'GET') {
  const response = await fetch(url, { method });
  return { status: response.status, body: await response.text() };
}

function requests(text: string, path: string, status: string, method = 'GET'): number {
  return sample(text, 'http_requests_total', { method, path, status, entity_type: 'anonymous' });
}

describe('status label', () => {
  let server: MetricsApp;
  let errors: unknown[];

  beforeEach(async () => {
    errors = [];
    server = await startMetricsApp((app) => {
      app.on('error', (error: unknown) => errors.push(error));
      const router = new Router();
      router.post('/created', (ctx) => {
        ctx.status = 201;
        ctx.body = { id: 1 };
      });
      router.delete('/gone', (ctx) => {
        ctx.status = 204;
      });
      router.get('/missing', (ctx) => {
        ctx.status = 404;
        ctx.body = 'no such thing';
      });
      router.get('/forbidden', (ctx) => ctx.throw(403, 'no'));
      router.get('/teapot', () => {
        throw teapot;
      });
      router.get('/boom', () => {
        throw boom;
      });
      router.get('/bad-status', () => {
        throw badStatus;
      });
      router.get('/async-boom', async () => {
        await Promise.resolve();
        throw boom;
      });
      app.use(router.routes());
    });
  });
  afterEach(async () => server.close());

  it('records the status a handler set: 201, 204, 404', async () => {
    expect((await send(`${server.url}/created`, 'POST')).status).to.equal(201);
    expect((await send(`${server.url}/gone`, 'DELETE')).status).to.equal(204);
    expect(await send(`${server.url}/missing`)).to.deep.equal({
      status: 404,
      body: 'no such thing',
    });
    const text = await server.scrape();
    expect(series(text, 'http_requests_total').map((s) => s.labels)).to.deep.equal([
      { method: 'POST', path: '/created', status: '201', entity_type: 'anonymous' },
      { method: 'DELETE', path: '/gone', status: '204', entity_type: 'anonymous' },
      { method: 'GET', path: '/missing', status: '404', entity_type: 'anonymous' },
    ]);
    expect(errors).to.deep.equal([]);
  });

  it('records err.status when downstream throws, and Koa still gets the same error', async () => {
    expect(await send(`${server.url}/teapot`)).to.deep.equal({ status: 418, body: "I'm a Teapot" });
    expect((await send(`${server.url}/forbidden`)).status).to.equal(403);
    const text = await server.scrape();
    expect(requests(text, '/teapot', '418')).to.equal(1);
    expect(requests(text, '/forbidden', '403')).to.equal(1);
    expect(errors).to.have.length(2);
    expect(errors[0]).to.equal(teapot);
    expect(teapot.message).to.equal('short and stout');
    expect(teapot.status).to.equal(418);
  });

  it('records 500 when downstream throws a plain Error, synchronously or not', async () => {
    expect(await send(`${server.url}/boom`)).to.deep.equal({
      status: 500,
      body: 'Internal Server Error',
    });
    expect((await send(`${server.url}/async-boom`)).status).to.equal(500);
    expect((await send(`${server.url}/bad-status`)).status).to.equal(500);
    const text = await server.scrape();
    expect(requests(text, '/boom', '500')).to.equal(1);
    expect(requests(text, '/async-boom', '500')).to.equal(1);
    expect(requests(text, '/bad-status', '500')).to.equal(1);
    expect(errors).to.have.length(3);
    expect(errors[0]).to.equal(boom);
    expect(errors[1]).to.equal(boom);
    expect(errors[2]).to.equal(badStatus);
    expect(boom.message).to.equal('boom');
  });

  it('records 404 for an unrouted request, and for a method no route takes', async () => {
    expect(await send(`${server.url}/nowhere`)).to.deep.equal({ status: 404, body: 'Not Found' });
    expect((await send(`${server.url}/created`)).status).to.equal(404);
    const text = await server.scrape();
    expect(requests(text, 'unmatched', '404')).to.equal(1);
    // The path matched a route (POST /created): the label is that route's pattern.
    expect(requests(text, '/created', '404')).to.equal(1);
  });

  it('records 499 for a client that went away before the response headers were sent', async () => {
    let arrived!: () => void;
    const hasArrived = new Promise<void>((resolve) => (arrived = resolve));
    const abandoned = await startMetricsApp((app) => {
      app.use(async (ctx) => {
        arrived();
        // Answer only once the client has gone.
        await new Promise((resolve) => ctx.req.socket.once('close', resolve));
        ctx.body = 'too late';
      });
    });
    try {
      const controller = new AbortController();
      const request = fetch(`${abandoned.url}/slow`, { signal: controller.signal });
      await hasArrived;
      controller.abort();
      await request.then(
        () => expect.fail('the request was answered'),
        (error: Error) => expect(error.name).to.equal('AbortError'),
      );
      let text = '';
      for (let i = 0; i < 200 && !text.includes('status="499"'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        text = await abandoned.metrics.scrape();
      }
      expect(series(text, 'http_requests_total')).to.deep.equal([
        {
          name: 'http_requests_total',
          labels: { method: 'GET', path: 'unmatched', status: '499', entity_type: 'anonymous' },
          value: 1,
        },
      ]);
    } finally {
      await abandoned.close();
    }
  });
});
