// A request is counted whatever the service does to ctx.state: a throwing getter at the
// entity-type key, ctx.state = null or a primitive, a Proxy whose traps throw. The caller kind that
// cannot be read is `other`; every request shows in http_requests_total and the histogram, and
// comes off the in-flight gauge with its body sizes recorded.
import type Koa from 'koa';

import { expect } from './helpers/chai';
import { requestsTotal, sample } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

const boom = (): never => {
  throw new Error('hostile state');
};

/** What the service does to ctx.state before answering, by name. */
const STATES: Record<string, (ctx: Koa.Context) => void> = {
  'a throwing getter at the key': (ctx) => {
    Object.defineProperty(ctx.state, 'entityType', { get: boom });
  },
  'ctx.state = null': (ctx) => {
    ctx.state = null;
  },
  'ctx.state = undefined': (ctx) => {
    ctx.state = undefined;
  },
  'ctx.state = a number': (ctx) => {
    ctx.state = 42;
  },
  'a Proxy whose every trap throws': (ctx) => {
    ctx.state = new Proxy(
      {},
      { get: boom, has: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom },
    );
  },
  'a revoked Proxy': (ctx) => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    ctx.state = proxy;
  },
  'a getter replacing ctx.state that throws': (ctx) => {
    Object.defineProperty(ctx, 'state', { get: boom, configurable: true });
  },
  'a key holding an object whose toString throws': (ctx) => {
    ctx.state.entityType = { toString: boom, [Symbol.toPrimitive]: boom };
  },
};

describe('requests are counted when ctx.state misbehaves', () => {
  let server: MetricsApp;
  afterEach(() => server.close());

  it('each misbehaviour, 3 requests each: all counted, the caller kind as `other`', async () => {
    server = await startMetricsApp((app) => {
      app.use((ctx) => {
        const name = decodeURIComponent(ctx.path.slice(1));
        ctx.body = 'ok';
        STATES[name](ctx);
      });
    });
    const names = Object.keys(STATES);
    for (const name of names) {
      for (let i = 0; i < 3; i++) {
        const answer = await rawRequest(server.url, { path: `/${encodeURIComponent(name)}` });
        expect(answer.status, name).to.equal(200);
        expect(answer.body, name).to.equal('ok');
      }
    }
    const text = await server.metrics.scrape();
    expect(requestsTotal(text, 'GET', 'unmatched', '200', 'other')).to.equal(3 * names.length);
    expect(
      sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: 'unmatched' }),
    ).to.equal(3 * names.length);
    // The new HTTP metrics too: every request came off the in-flight gauge and has its sizes.
    expect(
      sample(text, 'http_requests_in_flight', { method: 'GET', entity_type: 'anonymous' }),
    ).to.equal(0);
    for (const name of ['http_request_size_bytes_count', 'http_response_size_bytes_count']) {
      expect(sample(text, name, { method: 'GET', path: 'unmatched' }), name).to.equal(
        3 * names.length,
      );
    }
    expect(
      sample(text, 'http_response_size_bytes_sum', { method: 'GET', path: 'unmatched' }),
    ).to.equal(2 * 3 * names.length);
  });

  it('a service that throws after poisoning ctx.state: counted as 500, `other`', async () => {
    server = await startMetricsApp((app) => {
      app.silent = true;
      app.use((ctx) => {
        ctx.state = null;
        throw new Error('the service failed');
      });
    });
    for (let i = 0; i < 4; i++) {
      expect((await rawRequest(server.url, { path: '/x' })).status).to.equal(500);
    }
    const text = await server.metrics.scrape();
    expect(requestsTotal(text, 'GET', 'unmatched', '500', 'other')).to.equal(4);
  });
});
