// The method label: standard methods as they are, anything else folded to _OTHER.
import Router from '@koa/router';

import { expect } from './helpers/chai';
import { series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

describe('method label', () => {
  let server: MetricsApp;
  beforeEach(async () => {
    server = await startMetricsApp((app) => {
      const router = new Router();
      router.all('/dav/:name', (ctx) => {
        ctx.body = ctx.method;
      });
      app.use(router.routes());
    });
  });
  afterEach(async () => server.close());

  it('keeps each standard method', async () => {
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'QUERY'];
    for (const method of methods) {
      expect((await rawRequest(server.url, { method, path: '/dav/a' })).status).to.equal(200);
    }
    const text = await server.scrape();
    expect(
      series(text, 'http_requests_total').map((s) => [s.labels.method, s.value]),
    ).to.deep.equal(methods.map((method) => [method, 1]));
  });

  it('folds PROPFIND, MKCOL and other WebDAV methods to _OTHER, routed or not', async () => {
    const routed = await rawRequest(server.url, { method: 'PROPFIND', path: '/dav/a' });
    expect(routed.status).to.equal(200);
    expect(routed.body).to.equal('PROPFIND');
    for (const method of ['MKCOL', 'LOCK', 'PURGE']) {
      expect((await rawRequest(server.url, { method, path: '/dav/b' })).status).to.equal(200);
    }
    expect((await rawRequest(server.url, { method: 'PROPFIND', path: '/x' })).status).to.equal(404);
    const text = await server.scrape();
    expect(series(text, 'http_requests_total')).to.deep.equal([
      {
        name: 'http_requests_total',
        labels: { method: '_OTHER', path: '/dav/:name', status: '200', entity_type: 'anonymous' },
        value: 4,
      },
      {
        name: 'http_requests_total',
        labels: { method: '_OTHER', path: 'unmatched', status: '404', entity_type: 'anonymous' },
        value: 1,
      },
    ]);
    expect(series(text, 'http_request_duration_seconds_count').map((s) => s.labels)).to.deep.equal([
      { method: '_OTHER', path: '/dav/:name' },
      { method: '_OTHER', path: 'unmatched' },
    ]);
  });
});

describe('method label after a method override', () => {
  let server: MetricsApp;
  beforeEach(async () => {
    server = await startMetricsApp((app) => {
      // What method-override middleware does: the router then sees the overridden method.
      app.use(async (ctx, next) => {
        const override = ctx.get('X-HTTP-Method-Override');
        if (ctx.method === 'POST' && override !== '') ctx.method = override;
        await next();
      });
      const router = new Router();
      router.delete('/things/:id', (ctx) => {
        ctx.body = 'deleted';
      });
      app.use(router.routes());
    });
  });
  afterEach(async () => server.close());

  it('counts the method the route served, and the in-flight gauge the one that arrived', async () => {
    const answer = await rawRequest(server.url, {
      method: 'POST',
      path: '/things/7',
      headers: { 'X-HTTP-Method-Override': 'DELETE' },
    });
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal('deleted');
    const text = await server.scrape();
    expect(series(text, 'http_requests_total')).to.deep.equal([
      {
        name: 'http_requests_total',
        labels: { method: 'DELETE', path: '/things/:id', status: '200', entity_type: 'anonymous' },
        value: 1,
      },
    ]);
    // By method: the POST came and went; the scrape itself is in flight, as a GET.
    const inFlight = Object.fromEntries(
      series(text, 'http_requests_in_flight').map((s) => [s.labels.method, s.value]),
    );
    expect(inFlight).to.deep.equal({ POST: 0, GET: 1 });
  });
});
