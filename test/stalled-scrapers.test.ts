// Scrapers that stop reading cannot hold memory without bound: at most
// SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES responses are in flight (beyond it: 503, as promhttp's
// MaxRequestsInFlight answers), and a response not sent within SCANOPY_METRICS_SCRAPE_TIMEOUT_MS
// is destroyed, which frees its place. Real stalled clients: sockets that send a scrape and never
// read, against an exposition (about 24 MB) larger than what the kernel buffers for them.
import net from 'node:net';

import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetricsOptions } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { InProcess } from './helpers/in-process';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';
import { pollUntil } from './helpers/wait';

const TOKEN = 'stalled-token-70a3d1c5';
const BUSY = 'Too many concurrent scrapes';

/** A client that sends one scrape and never reads the answer; `received` is what it got so far. */
class StalledScraper {
  readonly socket: net.Socket;
  received = 0;
  closed = false;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
    this.socket.write(
      `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
    );
    this.socket.pause();
  }
  /** Reads everything that arrives from now on, until the connection ends. */
  drain(): Promise<number> {
    return new Promise((resolve) => {
      this.socket.on('data', (chunk: Buffer) => (this.received += chunk.length));
      if (this.closed) resolve(this.received);
      this.socket.once('close', () => resolve(this.received));
      this.socket.resume();
    });
  }
  destroy(): void {
    this.socket.destroy();
  }
}

function scrape(url: string): Promise<RawResponse> {
  return rawRequest(url, { path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } });
}

/** About 24 MB of exposition: 1,900 series with 12 kB label values, on the app's own provider. */
function bigExposition(app: MetricsApp): void {
  const counter = app.metrics.pipeline.meterProvider.getMeter('bulk').createCounter('bulk_total');
  const filler = 'v'.repeat(12_000);
  for (let i = 0; i < 1_900; i++) counter.add(1, { filler: `${filler}${i}` });
}

describe('stalled scrapers', function () {
  this.timeout(60_000);
  let app: MetricsApp;
  const stalled: StalledScraper[] = [];
  afterEach(async () => {
    for (const s of stalled.splice(0)) s.destroy();
    await app.close();
  });

  async function start(options: ScanopyMetricsOptions): Promise<number> {
    app = await startMetricsApp(undefined, { token: TOKEN, ...options });
    bigExposition(app);
    return Number(new URL(app.url).port);
  }

  it('at most 2 scrapes in flight (maxConcurrentScrapes: 2): the next ones get 503 until a stalled one leaves', async () => {
    const port = await start({ maxConcurrentScrapes: 2, scrapeTimeoutMs: 0 });
    const full = (await scrape(app.url)).body.length;
    expect(full).to.be.above(20_000_000);
    stalled.push(new StalledScraper(port), new StalledScraper(port));
    await pollUntil('both stalled scrapes hold their place', async () => {
      const answer = await scrape(app.url);
      return answer.status === 503;
    });
    for (let i = 0; i < 3; i++) {
      const busy = await scrape(app.url);
      expect(busy.status).to.equal(503);
      expect(busy.body).to.equal(BUSY);
      expect(busy.headers['cache-control']).to.equal('no-store');
    }
    // A stalled scraper that goes away frees its place.
    stalled[0].destroy();
    await pollUntil('a place is free again', async () => (await scrape(app.url)).status === 200);
    const text = await app.metrics.scrape();
    expect(text).to.match(
      /http_requests_total\{method="GET",path="\/metrics",status="503",entity_type="anonymous"\} [1-9]\d*\n/,
    );
  });

  it('a response not sent within scrapeTimeoutMs is destroyed: its place frees itself, the stalled client gets a truncated body', async () => {
    // Long enough for a scraper that reads, far too short for one that never does.
    const port = await start({ maxConcurrentScrapes: 1, scrapeTimeoutMs: 5000 });
    const full = Buffer.byteLength((await scrape(app.url)).body);
    const client = new StalledScraper(port);
    stalled.push(client);
    // While it holds the one place, others get 503; once destroyed, scrapes succeed again.
    await pollUntil(
      'the stalled scrape was cut off',
      async () => (await scrape(app.url).catch(() => undefined))?.status === 200,
      {
        timeoutMs: 20_000,
      },
    );
    const received = await client.drain();
    expect(received).to.be.above(0);
    expect(received).to.be.below(full);
    expect(client.closed).to.equal(true);
  });

  it('the limit counts only authorized scrapes: 401s and 429s never take a place', async () => {
    await start({ maxConcurrentScrapes: 1, scrapeTimeoutMs: 0 });
    for (let i = 0; i < 5; i++) {
      expect((await rawRequest(app.url, { path: '/metrics' })).status).to.equal(401);
    }
    expect((await scrape(app.url)).status).to.equal(200);
  });

  it('the service is not affected: its own requests are answered while scrapers stall', async () => {
    const port = await start({ maxConcurrentScrapes: 1, scrapeTimeoutMs: 0 });
    stalled.push(new StalledScraper(port));
    await pollUntil(
      'the stalled scrape holds the place',
      async () => (await scrape(app.url)).status === 503,
    );
    const other = await rawRequest(app.url, { path: '/anything' });
    expect(other.status).to.equal(404);
  });
});

describe('SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES and SCANOPY_METRICS_SCRAPE_TIMEOUT_MS', () => {
  const run = new InProcess();
  afterEach(() => run.stopAll());

  it('defaults: 8 scrapes in flight, 30 s send timeout', () => {
    const { preload, stderr } = run.start({ SCANOPY_METRICS_TOKEN: TOKEN });
    expect(preload.settings.maxConcurrentScrapes).to.equal(8);
    expect(preload.settings.scrapeTimeoutMs).to.equal(30_000);
    expect(stderr).to.deep.equal([]);
  });

  it('are read from the environment, 0 turns each off', () => {
    const { preload } = run.start({
      SCANOPY_METRICS_TOKEN: TOKEN,
      SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES: '0',
      SCANOPY_METRICS_SCRAPE_TIMEOUT_MS: '2500',
    });
    expect(preload.settings.maxConcurrentScrapes).to.equal(0);
    expect(preload.settings.scrapeTimeoutMs).to.equal(2500);
  });

  it('a bad value names the variable', () => {
    const { stderr } = run.start({
      SCANOPY_METRICS_TOKEN: TOKEN,
      SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES: 'many',
    });
    expect(stderr).to.deep.equal([
      'scanopy-metrics: SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES: expected a whole number from 0 up, got "many"; the metrics route is disabled (404)',
    ]);
  });

  it('createMetrics validates its options', () => {
    expect(() => createMetrics({ token: TOKEN, maxConcurrentScrapes: -1 })).to.throw(
      'createMetrics: maxConcurrentScrapes: expected a whole number from 0 up',
    );
    // Past 2^31 - 1 ms a Node timer fires after 1 ms: every scrape would be destroyed at once.
    expect(() => createMetrics({ token: TOKEN, scrapeTimeoutMs: 2 ** 31 })).to.throw(
      'createMetrics: scrapeTimeoutMs: expected at most 2147483647, got 2147483648',
    );
  });
});
