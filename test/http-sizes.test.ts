// http_request_size_bytes and http_response_size_bytes over real sockets: a body of K bytes adds
// exactly K to the sum and 1 to the count, whether it was sent with Content-Length or streamed in
// chunks, read by the service at once or as a stream; what Node never sends (HEAD, 204, 304)
// counts 0; buckets are 256 B .. 16 MiB by x4.
import http from 'node:http';
import { Readable } from 'node:stream';

import { Router } from '@koa/router';
import Koa from 'koa';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { sample, series } from './helpers/exposition';
import { listen, type ListeningServer } from './helpers/server';

const REQUEST = 'http_request_size_bytes';
const RESPONSE = 'http_response_size_bytes';
const BUCKETS = [
  '256',
  '1024',
  '4096',
  '16384',
  '65536',
  '262144',
  '1048576',
  '4194304',
  '16777216',
];

interface App {
  metrics: ScanopyMetrics;
  server: ListeningServer;
}

/** Deterministic bytes of any length (no randomness in a test's expected value). */
function bytes(n: number, seed = 7): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x & 0xff;
  }
  return out;
}

async function startApp(): Promise<App> {
  const metrics = createMetrics({ token: 'sizes-token' });
  const app = new Koa();
  app.use(metrics.firstMiddleware());
  const router = new Router();
  // Reads the request body as a stream and answers with its length.
  router.post('/upload', async (ctx) => {
    let n = 0;
    for await (const chunk of ctx.req) n += (chunk as Buffer).length;
    ctx.body = { received: n };
  });
  // Answers ?n= bytes: as one Buffer, or streamed in chunks of ?chunk= bytes without a length.
  router.get('/download', (ctx) => {
    const n = Number(ctx.query.n);
    const body = bytes(n);
    if (ctx.query.chunk === undefined) {
      ctx.body = body;
      return;
    }
    const size = Number(ctx.query.chunk);
    const chunks: Buffer[] = [];
    for (let i = 0; i < n; i += size) chunks.push(body.subarray(i, i + size));
    ctx.body = Readable.from(chunks);
  });
  router.get('/text', (ctx) => {
    ctx.body = 'héllo, wörld — ✓'; // 22 bytes of UTF-8 for 16 characters
  });
  router.get('/empty', (ctx) => {
    ctx.status = 204;
  });
  router.get('/raw', (ctx) => {
    // The service writes to Node's response itself, in pieces, strings and bytes mixed.
    ctx.respond = false;
    ctx.res.writeHead(200, { 'content-type': 'text/plain' });
    ctx.res.write('abc');
    ctx.res.write(Buffer.from('defg'));
    ctx.res.write('6869', 'hex');
    ctx.res.end('!');
  });
  app.use(router.routes());
  return { metrics, server: await listen(app) };
}

interface Exchange {
  status: number;
  body: Buffer;
}

/** One request; `body` is sent with Content-Length, or streamed (chunked) in `chunks`. */
function exchange(
  url: string,
  path: string,
  options: { method?: string; body?: Buffer; chunks?: Buffer[] } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-length'] = String(options.body.length);
    const req = http.request(`${url}${path}`, {
      method: options.method ?? 'GET',
      headers,
      agent: false,
    });
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else if (options.chunks !== undefined) {
      // Each chunk written on its own, a turn of the event loop apart: a streamed upload.
      const chunks = [...options.chunks];
      const writeNext = (): void => {
        const chunk = chunks.shift();
        if (chunk === undefined) req.end();
        else req.write(chunk, () => setImmediate(writeNext));
      };
      writeNext();
    } else req.end();
  });
}

/** `_sum` and `_count` of a size histogram for one label set (0, 0 when there is none yet). */
function sizeOf(text: string, name: string, labels: Record<string, string>): [number, number] {
  const has = series(text, `${name}_count`).some((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (!has) return [0, 0];
  return [sample(text, `${name}_sum`, labels), sample(text, `${name}_count`, labels)];
}

/** Lets the server-side 'close' of the last response run before collecting. */
async function settle(app: App): Promise<string> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return app.metrics.scrape();
}

describe('http_request_size_bytes and http_response_size_bytes', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.server.close();
    await app?.metrics.shutdown();
    app = undefined;
  });

  it('are histograms of {method, path} in bytes, with buckets 256 B .. 16 MiB by x4', async () => {
    app = await startApp();
    await exchange(app.server.url, '/text');
    const text = await settle(app);
    for (const name of [REQUEST, RESPONSE]) {
      expect(text).to.contain(`# TYPE ${name} histogram\n`);
      expect(text).to.contain(`# UNIT ${name} By\n`);
      const les = series(text, `${name}_bucket`)
        .filter((s) => s.labels.path === '/text')
        .map((s) => s.labels.le);
      expect(les).to.deep.equal([...BUCKETS, '+Inf']);
    }
  });

  for (const k of [0, 1, 255, 256, 257, 70_000, 1_048_577]) {
    it(`a request body of ${k} bytes with Content-Length adds exactly ${k} to the sum`, async () => {
      app = await startApp();
      const labels = { method: 'POST', path: '/upload' };
      const before = sizeOf(await settle(app), REQUEST, labels);
      const response = await exchange(app.server.url, '/upload', {
        method: 'POST',
        body: bytes(k),
      });
      expect(JSON.parse(response.body.toString())).to.deep.equal({ received: k });
      const text = await settle(app);
      expect(sizeOf(text, REQUEST, labels)).to.deep.equal([before[0] + k, before[1] + 1]);
      // The body lands in the first bucket that holds it.
      const le = BUCKETS.find((b) => k <= Number(b)) ?? '+Inf';
      const bucket = (bound: string) => sample(text, `${REQUEST}_bucket`, { ...labels, le: bound });
      expect(bucket(le)).to.equal(1);
      const below = BUCKETS[BUCKETS.indexOf(le) - 1];
      if (below !== undefined) expect(bucket(below)).to.equal(0);
    });
  }

  it('a streamed (chunked) request body of 3 x 50,000 + 7 bytes adds exactly 150,007', async () => {
    app = await startApp();
    const chunks = [bytes(50_000, 1), bytes(50_000, 2), bytes(50_000, 3), bytes(7, 4)];
    const response = await exchange(app.server.url, '/upload', { method: 'POST', chunks });
    expect(JSON.parse(response.body.toString())).to.deep.equal({ received: 150_007 });
    const text = await settle(app);
    expect(sizeOf(text, REQUEST, { method: 'POST', path: '/upload' })).to.deep.equal([150_007, 1]);
  });

  it('ten requests add the sum of their bodies, and their responses the sum of theirs', async () => {
    app = await startApp();
    const sizes = [3, 300, 3_000, 30_000, 0, 1, 1_000, 65_536, 65_537, 12];
    let responses = 0;
    for (const k of sizes) {
      const response = await exchange(app.server.url, '/upload', {
        method: 'POST',
        body: bytes(k),
      });
      responses += response.body.length;
    }
    const text = await settle(app);
    const labels = { method: 'POST', path: '/upload' };
    expect(sizeOf(text, REQUEST, labels)).to.deep.equal([
      sizes.reduce((a, b) => a + b, 0),
      sizes.length,
    ]);
    expect(sizeOf(text, RESPONSE, labels)).to.deep.equal([responses, sizes.length]);
  });

  for (const k of [0, 100, 4096, 500_000]) {
    it(`a response body of ${k} bytes adds exactly ${k}, sent at once or streamed`, async () => {
      app = await startApp();
      const whole = await exchange(app.server.url, `/download?n=${k}`);
      const streamed = await exchange(app.server.url, `/download?n=${k}&chunk=1000`);
      expect(whole.body.length).to.equal(k);
      expect(streamed.body.equals(whole.body)).to.equal(true);
      const text = await settle(app);
      expect(sizeOf(text, RESPONSE, { method: 'GET', path: '/download' })).to.deep.equal([
        2 * k,
        2,
      ]);
    });
  }

  it('counts a text body in UTF-8 bytes, and pieces written to the raw response', async () => {
    app = await startApp();
    expect((await exchange(app.server.url, '/text')).body.length).to.equal(22);
    expect((await exchange(app.server.url, '/raw')).body.toString()).to.equal('abcdefghi!');
    const text = await settle(app);
    expect(sizeOf(text, RESPONSE, { method: 'GET', path: '/text' })).to.deep.equal([22, 1]);
    expect(sizeOf(text, RESPONSE, { method: 'GET', path: '/raw' })).to.deep.equal([10, 1]);
  });

  it('counts 0 for what Node never sends: a HEAD answer and a 204', async () => {
    app = await startApp();
    const head = await exchange(app.server.url, '/download?n=5000', { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.body.length).to.equal(0);
    expect((await exchange(app.server.url, '/empty')).status).to.equal(204);
    const text = await settle(app);
    expect(sizeOf(text, RESPONSE, { method: 'HEAD', path: '/download' })).to.deep.equal([0, 1]);
    expect(sizeOf(text, RESPONSE, { method: 'GET', path: '/empty' })).to.deep.equal([0, 1]);
    expect(sizeOf(text, REQUEST, { method: 'GET', path: '/empty' })).to.deep.equal([0, 1]);
  });
});
