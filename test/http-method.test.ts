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
