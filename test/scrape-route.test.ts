// The metrics route's scrape protocol over real sockets: the format and content coding each kind
// of scraper gets (headers captured from Prometheus 2.42 and VictoriaMetrics), Content-Type,
// Content-Encoding, Content-Length and Vary; no compression for HEAD or tiny bodies; the route's
// own metrics (answers by status code, time to produce a 200); and a scrape that fails half-way
// answering a whole 500, never a truncated 200.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';

import Koa from 'koa';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { OFFERED_CODINGS } from '../src/exposition/compress';
import { metricsRoute } from '../src/route/route';
import { TokenSet } from '../src/auth/bearer';
import { ScrapeSlots } from '../src/route/scrape-slots';
import { BODY_SLICE_BYTES } from '../src/route/sliced-send';
import { expect } from './helpers/chai';
import { sample, series } from './helpers/exposition';
import { pythonParse } from './helpers/python-parser';
import { listen, type ListeningServer } from './helpers/server';

const TOKEN = 'scrape-route-token-31f7';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const PROMETHEUS_2_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const VICTORIA_METRICS_ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as received, before any decoding. */
  raw: Buffer;
}

/** One request to the route, on a connection of its own from `localAddress` (another client). */
function request(
  url: string,
  headers: Record<string, string>,
  method = 'GET',
  localAddress = '127.0.0.1',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { method, headers, agent: false, localAddress };
    const req = http.request(`${url}/metrics`, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }),
      );
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

function decoded(answer: Answer): string {
  const coding = answer.headers['content-encoding'];
  if (coding === undefined) return answer.raw.toString('utf8');
  if (coding === 'gzip') return zlib.gunzipSync(answer.raw).toString('utf8');
  if (coding === 'zstd') {
    const unzstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer })
      .zstdDecompressSync;
    return unzstd(answer.raw).toString('utf8');
  }
  throw new Error(`unexpected Content-Encoding ${coding}`);
}

describe('the metrics route: formats, compression, self-metrics', function () {
  this.timeout(30_000);
  let metrics: ScanopyMetrics;
  let server: ListeningServer;

  beforeEach(async () => {
    metrics = createMetrics({ token: TOKEN, authFailuresPerMinute: 2 });
    const app = new Koa();
    app.middleware.unshift(metrics.firstMiddleware());
    app.use((ctx) => {
      ctx.body = 'pong';
    });
    server = await listen(app);
    // Enough series that the exposition is worth compressing (above 1 KiB).
    for (let i = 0; i < 20; i++) {
      metrics.pipeline.instruments.recordRequest('GET', `/api/v1/things/${i}`, '200', 'user', 0.01);
    }
  });
  afterEach(async () => {
    await server.close();
    await metrics.shutdown();
  });

  it('answers a scraper that asks for nothing with the text format, uncompressed, as before', async () => {
    const answer = await request(server.url, AUTH);
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.equal(TEXT);
    expect(answer.headers['content-encoding']).to.equal(undefined);
    expect(answer.headers.vary).to.equal('Accept, Accept-Encoding');
    expect(Number(answer.headers['content-length'])).to.equal(answer.raw.length);
    expect(answer.raw.toString('utf8')).to.match(/^# HELP target_info Target metadata\n/);
  });

  it("gives Prometheus 2.42's headers OpenMetrics 1.0.0, gzipped, with the length of what is sent", async () => {
    const answer = await request(server.url, {
      ...AUTH,
      Accept: PROMETHEUS_2_ACCEPT,
      'Accept-Encoding': 'gzip',
    });
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.equal(OPENMETRICS);
    expect(answer.headers['content-encoding']).to.equal('gzip');
    expect(answer.headers.vary).to.equal('Accept, Accept-Encoding');
    expect(Number(answer.headers['content-length'])).to.equal(answer.raw.length);
    const text = decoded(answer);
    expect(text.endsWith('\n# EOF\n')).to.equal(true);
    const families = await pythonParse(text, 'openmetrics');
    expect(families.map((f) => f.name)).to.include.members(['target', 'http_requests']);
  });

  it("gives VictoriaMetrics's headers the text format, gzipped", async () => {
    const answer = await request(server.url, {
      ...AUTH,
      Accept: VICTORIA_METRICS_ACCEPT,
      'Accept-Encoding': 'gzip',
    });
    expect(answer.headers['content-type']).to.equal(TEXT);
    expect(answer.headers['content-encoding']).to.equal('gzip');
    expect(decoded(answer)).to.match(/^# HELP target_info Target metadata\n/);
  });

  it('uses zstd where this Node writes it, else answers identity to a client asking only for zstd', async () => {
    const answer = await request(server.url, { ...AUTH, 'Accept-Encoding': 'zstd' });
    expect(answer.status).to.equal(200);
    if (OFFERED_CODINGS.includes('zstd')) {
      expect(answer.headers['content-encoding']).to.equal('zstd');
    } else {
      expect(answer.headers['content-encoding']).to.equal(undefined);
    }
    expect(decoded(answer)).to.match(/^# HELP target_info Target metadata\n/);
  });

  it('does not compress the answer to HEAD', async () => {
    const answer = await request(
      server.url,
      { ...AUTH, Accept: PROMETHEUS_2_ACCEPT, 'Accept-Encoding': 'gzip' },
      'HEAD',
    );
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.equal(OPENMETRICS);
    expect(answer.headers['content-encoding']).to.equal(undefined);
    expect(Number(answer.headers['content-length'])).to.be.above(1000);
    expect(answer.raw.length).to.equal(0);
  });

  it('sends an exposition above a slice whole, with its length, and HEAD its length only', async () => {
    // 1,000 more label sets: about 1.5 MB of text, sent a slice a turn by the package, not Koa.
    for (let i = 0; i < 1000; i++) {
      metrics.pipeline.instruments.recordRequest('GET', `/api/v1/many/${i}`, '200', 'user', 0.01);
    }
    const answer = await request(server.url, AUTH);
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.equal(TEXT);
    expect(answer.raw.length).to.be.above(BODY_SLICE_BYTES);
    expect(Number(answer.headers['content-length'])).to.equal(answer.raw.length);
    const text = answer.raw.toString('utf8');
    expect(series(text, 'http_requests_total').length).to.equal(1020);
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: '/api/v1/many/999',
        status: '200',
        entity_type: 'user',
      }),
    ).to.equal(1);
    // Python's prometheus_client reads it all, every line in place.
    const families = await pythonParse(text, 'text');
    const requests = families.find((f) => f.name === 'http_requests');
    expect(requests?.samples.filter((x) => x.name === 'http_requests_total').length).to.equal(1020);
    const head = await request(server.url, AUTH, 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.raw.length).to.equal(0);
    // The route's own metrics have counted the GET meanwhile: a little longer.
    expect(Number(head.headers['content-length'])).to.be.above(answer.raw.length);
  });

  it('does not compress a tiny body', async () => {
    const app = new Koa();
    app.use(
      metricsRoute({
        tokens: () => new TokenSet([TOKEN]),
        scrape: () => Promise.resolve('tiny_total 1\n'),
      }),
    );
    const tiny = await listen(app);
    try {
      const answer = await request(tiny.url, { ...AUTH, 'Accept-Encoding': 'gzip' });
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-encoding']).to.equal(undefined);
      expect(answer.raw.toString('utf8')).to.equal('tiny_total 1\n');
    } finally {
      await tiny.close();
    }
  });

  it('counts every answer of the route by status code, and times the 200s', async () => {
    // A guesser at 127.0.0.2: two failures, then limited (the right token included).
    const guesser = '127.0.0.2';
    expect((await request(server.url, {}, 'GET', guesser)).status).to.equal(401);
    const wrong = { Authorization: 'Bearer wrong' };
    expect((await request(server.url, wrong, 'GET', guesser)).status).to.equal(401);
    expect((await request(server.url, wrong, 'GET', guesser)).status).to.equal(429);
    expect((await request(server.url, AUTH, 'GET', guesser)).status).to.equal(429);
    // The scraper at 127.0.0.1.
    expect((await request(server.url, AUTH, 'POST')).status).to.equal(405);
    expect((await request(server.url, AUTH)).status).to.equal(200);
    expect((await request(server.url, { ...AUTH, 'Accept-Encoding': 'gzip' })).status).to.equal(
      200,
    );
    const text = await metrics.scrape();
    const scrapes = (code: string): number =>
      sample(text, 'scanopy_metrics_scrapes_total', { code });
    expect(scrapes('401')).to.equal(2);
    expect(scrapes('429')).to.equal(2);
    expect(scrapes('405')).to.equal(1);
    expect(scrapes('200')).to.equal(2);
    expect(series(text, 'scanopy_metrics_scrapes_total')).to.have.length(4);
    expect(sample(text, 'scanopy_metrics_scrape_duration_seconds_count')).to.equal(2);
    expect(sample(text, 'scanopy_metrics_scrape_duration_seconds_bucket', { le: '+Inf' })).to.equal(
      2,
    );
    expect(sample(text, 'scanopy_metrics_scrape_duration_seconds_sum')).to.be.above(0);
  });

  it('counts the 503 of a scrape beyond the in-flight limit', async () => {
    const answers: [number, number | undefined][] = [];
    const slots = new ScrapeSlots(1, 0);
    // The one place, taken by a response that never closes.
    expect(slots.take({ once: () => undefined, destroy: () => undefined })).to.equal(true);
    const app = new Koa();
    app.use(
      metricsRoute({
        tokens: () => new TokenSet([TOKEN]),
        slots,
        scrape: () => Promise.resolve('x_total 1\n'),
        onAnswer: (status, seconds) => answers.push([status, seconds]),
      }),
    );
    const limited = await listen(app);
    try {
      const answer = await request(limited.url, AUTH);
      expect(answer.status).to.equal(503);
      expect(answer.raw.toString('utf8')).to.equal('Too many concurrent scrapes');
      expect(answers).to.deep.equal([[503, undefined]]);
    } finally {
      await limited.close();
    }
  });

  it('answers a whole 500 when compression fails, and frees the exposition', async () => {
    const answers: number[] = [];
    let released = 0;
    const app = new Koa();
    app.use(
      metricsRoute({
        tokens: () => new TokenSet([TOKEN]),
        // Bytes that zlib refuses (not a buffer): the compression step fails.
        scrape: () =>
          Promise.resolve({
            bytes: { length: 4096 } as unknown as Buffer,
            release: () => void released++,
          }),
        onAnswer: (status) => answers.push(status),
      }),
    );
    const failing = await listen(app);
    try {
      const answer = await request(failing.url, { ...AUTH, 'Accept-Encoding': 'gzip' });
      expect(answer.status).to.equal(500);
      expect(answer.headers['content-encoding']).to.equal(undefined);
      expect(answer.raw.toString('utf8')).to.equal('Metrics collection failed');
      expect(answers).to.deep.equal([500]);
      expect(released).to.equal(1);
    } finally {
      await failing.close();
    }
  });

  it('counts the 404 of a route without a token', async () => {
    const closed = createMetrics({});
    const app = new Koa();
    app.middleware.unshift(closed.firstMiddleware());
    const s = await listen(app);
    try {
      const answer = await request(s.url, AUTH);
      expect(answer.status).to.equal(404);
      const text = await closed.scrape();
      expect(sample(text, 'scanopy_metrics_scrapes_total', { code: '404' })).to.equal(1);
    } finally {
      await s.close();
      await closed.shutdown();
    }
  });

  it('answers a whole 500 when OpenMetrics serialization fails half-way, never a truncated 200', async () => {
    const reader = metrics.pipeline.reader;
    const collect = reader.collect.bind(reader);
    const poisoned = {
      descriptor: { name: 'poisoned', description: '', unit: '', type: 'COUNTER', valueType: 1 },
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      aggregationTemporality: 1,
      get dataPoints(): never {
        throw new Error('injected serialization failure');
      },
    } as unknown as MetricData;
    reader.collect = async () => {
      const collected = await collect();
      collected.resourceMetrics.scopeMetrics.push({
        scope: { name: 'poisoned' },
        metrics: [poisoned],
      });
      return collected;
    };
    try {
      const answer = await request(server.url, {
        ...AUTH,
        Accept: PROMETHEUS_2_ACCEPT,
        'Accept-Encoding': 'gzip',
      });
      expect(answer.status).to.equal(500);
      expect(answer.headers['content-encoding']).to.equal(undefined);
      expect(answer.raw.toString('utf8')).to.equal('Metrics collection failed');
      expect(Number(answer.headers['content-length'])).to.equal(answer.raw.length);
    } finally {
      delete (reader as Partial<typeof reader>).collect;
    }
    const text = await metrics.scrape();
    expect(sample(text, 'scanopy_metrics_scrapes_total', { code: '500' })).to.equal(1);
  });
});
