// http_request_duration_seconds: one observation per request, in seconds, taken when the response
// has been sent, so a streamed body is included.
import http from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import Router from '@koa/router';

import { expect } from './helpers/chai';
import { sample, series } from './helpers/exposition';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

/** A body whose last chunk comes about 150 ms after the handler returned. */
function slowBody(): Readable {
  return Readable.from(
    (async function* () {
      yield 'first\n';
      await sleep(150);
      yield 'last\n';
    })(),
  );
}

function buckets(text: string, path: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const s of series(text, 'http_request_duration_seconds_bucket')) {
    if (s.labels.path === path) result[s.labels.le] = s.value;
  }
  return result;
}

describe('duration histogram', () => {
  let server: MetricsApp;
  let closed: Promise<void>;

  beforeEach(async () => {
    let onClosed: () => void = () => undefined;
    closed = new Promise((resolve) => (onClosed = resolve));
    server = await startMetricsApp((app) => {
      // An abandoned stream ends in ERR_STREAM_PREMATURE_CLOSE, which Koa would log.
      app.on('error', () => undefined);
      const router = new Router();
      router.get('/fast', (ctx) => {
        ctx.body = 'fast';
      });
      router.get('/stream', (ctx) => {
        ctx.type = 'text/plain';
        ctx.body = slowBody();
        ctx.res.once('close', onClosed);
      });
      router.get('/slow', async (ctx) => {
        await sleep(150);
        ctx.body = 'slow';
      });
      app.use(router.routes());
    });
  });
  afterEach(async () => server.close());

  it('observes once per request: count and +Inf equal the number of requests', async () => {
    for (let i = 0; i < 7; i++) await (await fetch(`${server.url}/fast`)).text();
    const text = await server.scrape();
    const labels = { method: 'GET', path: '/fast' };
    expect(sample(text, 'http_request_duration_seconds_count', labels)).to.equal(7);
    expect(
      sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
    ).to.equal(7);
    expect(
      sample(text, 'http_requests_total', { ...labels, status: '200', entity_type: 'anonymous' }),
    ).to.equal(7);
    expect(sample(text, 'http_request_duration_seconds_sum', labels)).to.be.greaterThan(0);
    // In the exposition's order, le ascending (an object's values would put '1', '5', '10' first).
    const counts = series(text, 'http_request_duration_seconds_bucket')
      .filter((s) => s.labels.path === '/fast')
      .map((s) => s.value);
    expect(counts).to.have.length(12);
    expect(counts.every((n, i) => i === 0 || n >= counts[i - 1])).to.equal(true);
  });

  it('includes a streamed body: a ~150 ms stream is not in le="0.1"', async () => {
    const response = await fetch(`${server.url}/stream`);
    expect(await response.text()).to.equal('first\nlast\n');
    const text = await server.scrape();
    const counts = buckets(text, '/stream');
    expect(counts['0.1']).to.equal(0);
    expect(counts['10']).to.equal(1);
    expect(counts['+Inf']).to.equal(1);
    expect(
      sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: '/stream' }),
    ).to.equal(1);
  });

  it('includes time spent in the handler: a 150 ms handler is not in le="0.1"', async () => {
    expect(await (await fetch(`${server.url}/slow`)).text()).to.equal('slow');
    const counts = buckets(await server.scrape(), '/slow');
    expect(counts['0.1']).to.equal(0);
    expect(counts['+Inf']).to.equal(1);
  });

  it('counts a response the client abandoned mid-stream once', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${server.url}/stream`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error);
      });
    });
    await closed; // the server has seen the connection go
    const text = await server.scrape();
    expect(series(text, 'http_requests_total').map((s) => [s.labels, s.value])).to.deep.equal([
      [{ method: 'GET', path: '/stream', status: '200', entity_type: 'anonymous' }, 1],
    ]);
    expect(
      sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: '/stream' }),
    ).to.equal(1);
  });
});
