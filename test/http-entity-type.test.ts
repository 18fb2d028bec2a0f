// The entity_type label: the caller kind the service's auth left in ctx.state, read after the
// downstream middleware ran; anonymous when unset, folded to other when unknown.
import Router from '@koa/router';
import type Koa from 'koa';

import { expect } from './helpers/chai';
import { series } from './helpers/exposition';
import { startMetricsApp, TOKEN } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

/** Auth as a service would write it: the caller kind from a header, stored in ctx.state[key]. */
function mountAuthAndRoutes(key: string) {
  return (app: Koa) => {
    app.on('error', () => undefined); // the 500 below is expected
    app.use(async (ctx, next) => {
      const caller = ctx.get('x-caller');
      if (caller !== '') (ctx.state as Record<string, unknown>)[key] = caller;
      await next();
    });
    const router = new Router();
    router.get('/things', (ctx) => {
      ctx.body = 'things';
    });
    router.get('/late', (ctx) => {
      // Decided by the handler itself, after the metrics middleware has long been passed.
      (ctx.state as Record<string, unknown>)[key] = 'daemon';
      ctx.body = 'late';
    });
    router.get('/fails', (ctx) => {
      (ctx.state as Record<string, unknown>)[key] = 'api_key';
      ctx.throw(500, 'fails');
    });
    router.get('/default-key', (ctx) => {
      ctx.state.entityType = 'user';
      ctx.body = 'default key';
    });
    app.use(router.routes());
  };
}

async function send(url: string, caller?: string): Promise<void> {
  const response = await fetch(url, {
    headers: caller === undefined ? {} : { 'X-Caller': caller },
  });
  await response.arrayBuffer();
}

function entityTypes(text: string) {
  return series(text, 'http_requests_total').map((s) => [
    s.labels.path,
    s.labels.entity_type,
    s.value,
  ]);
}

describe('entity_type label', () => {
  let server: MetricsApp;
  afterEach(async () => server.close());

  describe('with the default key ctx.state.entityType', () => {
    beforeEach(async () => {
      server = await startMetricsApp(mountAuthAndRoutes('entityType'));
    });

    it('is the caller kind set downstream, anonymous when unset, other when unknown', async () => {
      for (const caller of ['user', 'daemon', 'api_key', 'user', 'system', 'external_service']) {
        await send(`${server.url}/things`, caller);
      }
      await send(`${server.url}/things`);
      await send(`${server.url}/things`, 'anonymous');
      await send(`${server.url}/things`, 'admin');
      await send(`${server.url}/things`, 'root');
      const text = await server.scrape();
      expect(entityTypes(text)).to.deep.equal([
        ['/things', 'user', 2],
        ['/things', 'daemon', 1],
        ['/things', 'api_key', 1],
        ['/things', 'system', 1],
        ['/things', 'external_service', 1],
        ['/things', 'anonymous', 2],
        ['/things', 'other', 2],
      ]);
    });

    it('is read after the handler ran, and also when it threw', async () => {
      await send(`${server.url}/late`);
      await send(`${server.url}/fails`);
      const text = await server.scrape();
      expect(series(text, 'http_requests_total').map((s) => s.labels)).to.deep.equal([
        { method: 'GET', path: '/late', status: '200', entity_type: 'daemon' },
        { method: 'GET', path: '/fails', status: '500', entity_type: 'api_key' },
      ]);
    });

    it('labels unrouted requests of an authenticated caller with that caller', async () => {
      await send(`${server.url}/nowhere`, 'user');
      const text = await server.scrape();
      expect(series(text, 'http_requests_total').map((s) => s.labels)).to.deep.equal([
        { method: 'GET', path: 'unmatched', status: '404', entity_type: 'user' },
      ]);
    });
  });

  describe('with entityTypeKey: "caller"', () => {
    beforeEach(async () => {
      server = await startMetricsApp(mountAuthAndRoutes('caller'), {
        token: TOKEN,
        entityTypeKey: 'caller',
      });
    });

    it('reads ctx.state.caller, and ignores ctx.state.entityType', async () => {
      await send(`${server.url}/things`, 'daemon');
      await send(`${server.url}/things`);
      await send(`${server.url}/default-key`);
      await send(`${server.url}/late`);
      const text = await server.scrape();
      expect(entityTypes(text)).to.deep.equal([
        ['/things', 'daemon', 1],
        ['/things', 'anonymous', 1],
        ['/default-key', 'anonymous', 1],
        ['/late', 'daemon', 1],
      ]);
    });
  });
});
