// Faults are contained (issue 5): a bus subscriber that throws, a collection or a serialization
// that throws (injected), an SDK callback that throws, a scraper that hangs up mid-body, a scraper
// that reads slowly. Each time the service keeps answering, a failed scrape gets a 500 with a
// short message and one diag line, and the next scrape is complete and exact. The service's own
// `app.on('error')` still receives its errors with the package in front.
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import type { MetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import Koa from 'koa';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { createApp } from '../reference-service/app';
import { DEMO_USER_SESSION } from '../reference-service/auth';
import { expect } from './helpers/chai';
import { captureDiag } from './helpers/diag-capture';
import type { DiagCapture } from './helpers/diag-capture';
import { parseExposition, requestsTotal, sample, series, table } from './helpers/exposition';
import { ReferenceProcesses } from './helpers/reference-process';
import { pollUntil } from './helpers/wait';
import { scrapeOk, send } from './helpers/request';
import type { Received } from './helpers/request';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'faults-token-8c21d4';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const USER = { Authorization: `Bearer ${DEMO_USER_SESSION}`, 'Content-Type': 'application/json' };
const FAILED = 'Metrics collection failed';

/** The errors the package reported, as `message: cause`. */
function reported(capture: DiagCapture): string[] {
  return capture
    .at('error')
    .map((line) => `${line.message}: ${line.args.map((a) => (a as Error).message).join(', ')}`);
}

describe('faults are contained', function () {
  this.timeout(30_000);

  describe('a bus subscriber that throws, beside the observer', () => {
    let metrics: ScanopyMetrics;
    let server: ListeningServer;
    const logged: string[] = [];
    const appErrors: unknown[] = [];

    before(async () => {
      const { app, bus } = createApp({ logger: (line) => logged.push(line) });
      metrics = createMetrics({ token: TOKEN });
      app.middleware.unshift(metrics.firstMiddleware());
      app.on('error', (error: unknown) => appErrors.push(error));
      // One subscriber throws before the observer, one rejects after it.
      bus.subscribe({
        name: 'throws',
        filter: {},
        handleEvents: () => {
          throw new Error('subscriber exploded');
        },
      });
      bus.subscribe(metrics.observer);
      bus.subscribe({
        name: 'rejects',
        filter: {},
        handleEvents: () => Promise.reject(new Error('subscriber rejected')),
      });
      server = await listen(app);
    });
    after(async () => {
      await server.close();
      await metrics.shutdown();
    });

    it('the service answers every write, and every event is counted exactly once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const created = await send(server.url, {
          method: 'POST',
          path: '/api/v1/hosts',
          headers: USER,
          body: JSON.stringify({ name: `h${i}` }),
        });
        expect(created.status).to.equal(201);
        ids.push((JSON.parse(created.body) as { data: { id: string } }).data.id);
      }
      for (const id of ids.slice(0, 5)) {
        const updated = await send(server.url, {
          method: 'PUT',
          path: `/api/v1/hosts/${id}`,
          headers: USER,
          body: JSON.stringify({ name: 'renamed' }),
        });
        expect(updated.status).to.equal(200);
      }
      for (const id of ids.slice(5, 8)) {
        const deleted = await send(server.url, {
          method: 'DELETE',
          path: `/api/v1/hosts/${id}`,
          headers: USER,
        });
        expect(deleted.status).to.equal(200);
      }
      const wrong = await send(server.url, {
        path: '/api/v1/hosts',
        headers: { Authorization: 'Bearer wrong' },
      });
      expect(wrong.status).to.equal(401);

      const text = await scrapeOk(server.url, TOKEN);
      expect(table(text, 'scanopy_events_total')).to.deep.equal([
        [{ entity: 'Host', operation: 'created' }, 20],
        [{ entity: 'Host', operation: 'updated' }, 5],
        [{ entity: 'Host', operation: 'deleted' }, 3],
        [{ entity: 'auth', operation: 'login_failed' }, 1],
      ]);
      expect(requestsTotal(text, 'POST', '/api/v1/hosts', '201', 'user')).to.equal(20);
      expect(requestsTotal(text, 'PUT', '/api/v1/hosts/:id', '200', 'user')).to.equal(5);
      expect(requestsTotal(text, 'DELETE', '/api/v1/hosts/:id', '200', 'user')).to.equal(3);
      // The bus logged both failures of each of the 29 events, and the service saw no error.
      expect(logged).to.have.length(58);
      expect(logged[0]).to.equal('event subscriber "throws" failed: subscriber exploded');
      expect(logged[1]).to.equal('event subscriber "rejects" failed: subscriber rejected');
      expect(appErrors).to.deep.equal([]);
    });
  });

  describe('a collection or a serialization that throws', () => {
    let metrics: ScanopyMetrics;
    let server: ListeningServer;
    let capture: DiagCapture;

    beforeEach(async () => {
      metrics = createMetrics({ token: TOKEN });
      const app = new Koa();
      app.middleware.unshift(metrics.firstMiddleware());
      app.use((ctx) => {
        ctx.body = 'pong';
      });
      server = await listen(app);
      capture = captureDiag();
    });
    afterEach(async () => {
      capture.restore();
      await server.close();
      await metrics.shutdown();
    });

    async function ping(times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        const response = await send(server.url, { path: '/ping' });
        expect(response.status).to.equal(200);
        expect(response.body).to.equal('pong');
      }
    }

    /** Runs `during` with `collect` in place of the reader's own, which is back afterwards. */
    async function withCollect<T>(
      collect: MetricReader['collect'],
      during: () => Promise<T>,
    ): Promise<T> {
      const reader = metrics.pipeline.reader;
      reader.collect = collect;
      try {
        return await during();
      } finally {
        delete (reader as Partial<typeof reader>).collect;
      }
    }

    const scrapeAnswer = (): Promise<Received> =>
      send(server.url, { path: '/metrics', headers: AUTH });

    function expectFailedScrape(response: Received): void {
      expect(response.status).to.equal(500);
      expect(response.body).to.equal(FAILED);
      expect(response.headers['content-type']).to.equal('text/plain; charset=utf-8');
      expect(response.headers['cache-control']).to.equal('no-store');
    }

    it('a collect that throws: that scrape gets 500 and one diag line, the next one works', async () => {
      await ping(3);
      await withCollect(
        () => Promise.reject(new Error('injected collect failure')),
        async () => {
          expectFailedScrape(await scrapeAnswer());
          await ping(2);
        },
      );
      expect(reported(capture)).to.deep.equal([
        'scanopy-metrics: scrape failed: injected collect failure',
      ]);

      const text = await scrapeOk(server.url, TOKEN);
      expect(requestsTotal(text, 'GET', 'unmatched', '200')).to.equal(5);
      expect(requestsTotal(text, 'GET', '/metrics', '500')).to.equal(1);
      expect(series(text, 'http_requests_total')).to.have.length(2);
      expect(
        sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: '/metrics' }),
      ).to.equal(1);
      expect(capture.at('error')).to.have.length(1);
    });

    it('concurrent scrapes sharing a failed collection all get 500; the next one works', async () => {
      let calls = 0;
      const slowFailure = async (): Promise<never> => {
        calls++;
        await sleep(20);
        throw new Error('injected slow failure');
      };
      const responses = await withCollect(slowFailure, () =>
        Promise.all([1, 2, 3, 4, 5].map(() => scrapeAnswer())),
      );
      for (const response of responses) expectFailedScrape(response);
      expect(calls).to.be.at.least(1);
      // One line per failed scrape, each short and naming the cause.
      expect(reported(capture)).to.deep.equal(
        responses.map(() => 'scanopy-metrics: scrape failed: injected slow failure'),
      );
      const text = await scrapeOk(server.url, TOKEN);
      expect(requestsTotal(text, 'GET', '/metrics', '500')).to.equal(5);
    });

    it('a serializer that throws (unreadable data): 500 and one diag line, then recovery', async () => {
      await ping(4);
      const reader = metrics.pipeline.reader;
      const collect = reader.collect.bind(reader);
      // Real data, then one metric whose data points cannot be read: the serializer throws
      // halfway through the exposition.
      const poisoned = {
        descriptor: { name: 'poisoned', description: '', unit: '', type: 'COUNTER', valueType: 1 },
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        aggregationTemporality: 1,
        get dataPoints(): never {
          throw new Error('injected serialization failure');
        },
      } as unknown as MetricData;
      const poisonedCollect = async () => {
        const collected = await collect();
        collected.resourceMetrics.scopeMetrics.push({
          scope: { name: 'poisoned-library' },
          metrics: [poisoned],
        });
        return collected;
      };
      await withCollect(poisonedCollect, async () => {
        expectFailedScrape(await scrapeAnswer());
        await ping(1);
      });
      expect(reported(capture)).to.deep.equal([
        'scanopy-metrics: scrape failed: injected serialization failure',
      ]);
      const text = await scrapeOk(server.url, TOKEN);
      expect(text).to.not.contain('poisoned');
      expect(requestsTotal(text, 'GET', 'unmatched', '200')).to.equal(5);
      expect(requestsTotal(text, 'GET', '/metrics', '500')).to.equal(1);
      expect(text.endsWith('\n')).to.equal(true);
    });

    it('an SDK instrument whose callback throws: the scrape answers 200 with the rest, and says so', async () => {
      await ping(2);
      const meter = metrics.pipeline.meterProvider.getMeter('faulty-library');
      const gauge = meter.createObservableGauge('faulty_gauge');
      gauge.addCallback(() => {
        throw new Error('injected callback failure');
      });
      const healthy = meter.createObservableGauge('healthy_gauge');
      healthy.addCallback((result) => result.observe(7));

      const text = await scrapeOk(server.url, TOKEN);
      expect(requestsTotal(text, 'GET', 'unmatched', '200')).to.equal(2);
      expect(sample(text, 'healthy_gauge')).to.equal(7);
      expect(reported(capture)).to.deep.equal([
        'scanopy-metrics: collection error: injected callback failure',
      ]);
    });
  });

  describe('scrapers that hang up or read slowly, on a large exposition', () => {
    const LABEL_SETS = 10_000;
    let metrics: ScanopyMetrics;
    let server: ListeningServer;
    let fullSize: number;
    const appErrors: unknown[] = [];

    before(async () => {
      metrics = createMetrics({ token: TOKEN, cardinalityLimit: 20_000 });
      for (let i = 0; i < LABEL_SETS; i++) {
        metrics.pipeline.instruments.recordRequest('GET', `/r/${i}/:id`, '200', 'anonymous', 0.01);
      }
      const app = new Koa();
      app.middleware.unshift(metrics.firstMiddleware());
      app.use((ctx) => {
        ctx.body = 'pong';
      });
      app.on('error', (error: unknown) => appErrors.push(error));
      server = await listen(app);
      fullSize = Buffer.byteLength(await scrapeOk(server.url, TOKEN));
    });
    after(async () => {
      await server.close();
      await metrics.shutdown();
    });

    /** Every recorded series is in the text, which parses to its last line. */
    function expectComplete(text: string): void {
      expect(text.endsWith('\n')).to.equal(true);
      const requests = series(text, 'http_requests_total');
      const recorded = requests.filter((s) => s.labels.path.startsWith('/r/'));
      expect(recorded).to.have.length(LABEL_SETS);
      expect(recorded.every((s) => s.value === 1)).to.equal(true);
      expect(
        sample(text, 'http_request_duration_seconds_count', {
          method: 'GET',
          path: `/r/${LABEL_SETS - 1}/:id`,
        }),
      ).to.equal(1);
      expect(parseExposition(text).length).to.be.greaterThan(LABEL_SETS * 14);
    }

    function openScrape(): Promise<{ req: http.ClientRequest; res: IncomingMessage }> {
      return new Promise((resolve, reject) => {
        const req = http.get(`${server.url}/metrics`, { headers: AUTH, agent: false }, (res) =>
          resolve({ req, res }),
        );
        req.once('error', reject);
      });
    }

    it('is several megabytes', () => {
      expect(fullSize).to.be.greaterThan(4 * 1024 * 1024);
    });

    /** Requests to /metrics counted so far, whatever their status (read in-process: uncounted). */
    async function scrapesCounted(): Promise<number> {
      return series(await metrics.scrape(), 'http_requests_total')
        .filter((s) => s.labels.path === '/metrics')
        .reduce((total, s) => total + s.value, 0);
    }

    /** Asks for the exposition, reads its first chunk, then destroys the connection. */
    async function hangUpMidBody(): Promise<void> {
      const { req, res } = await openScrape();
      expect(res.statusCode).to.equal(200);
      expect(Number(res.headers['content-length'])).to.be.at.least(fullSize);
      const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
      expect(first.toString('utf8', 0, 13)).to.equal('# HELP target');
      expect(first.length).to.be.lessThan(fullSize);
      req.on('error', () => undefined);
      req.destroy();
    }

    it('a scraper that disconnects mid-body: the service keeps answering, the next scrape is complete', async () => {
      const before = await scrapesCounted();
      for (let i = 0; i < 5; i++) {
        await hangUpMidBody();
        const ping = await send(server.url, { path: '/ping' });
        expect(ping.status).to.equal(200);
        expect(ping.body).to.equal('pong');
      }
      // Hang up right after asking too, before or during the answer: never a failure.
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => {
          const req = http.get(`${server.url}/metrics`, { headers: AUTH, agent: false });
          req.on('error', () => undefined);
          req.on('close', () => resolve());
          req.once('socket', (socket) =>
            socket.once('connect', () => setImmediate(() => req.destroy())),
          );
        });
      }
      // Each abandoned scrape is counted once (200 if its headers went out, else 499), when the
      // server has seen the connection close.
      await pollUntil('the 10 abandoned scrapes are counted', async () => {
        return (await scrapesCounted()) >= before + 10;
      });
      expect(await scrapesCounted()).to.equal(before + 10);
      const text = await scrapeOk(server.url, TOKEN);
      expectComplete(text);
      expect(requestsTotal(text, 'GET', 'unmatched', '200')).to.equal(5);
    });

    it("an abandoned scrape raises no error on the service's app (app.on('error'), Koa's stderr log)", async () => {
      appErrors.length = 0;
      const before = await scrapesCounted();
      await hangUpMidBody();
      await pollUntil('the abandoned scrape is counted', async () => {
        return (await scrapesCounted()) > before;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(appErrors.map((e) => (e as Error).message)).to.deep.equal([]);
    });

    it('a slow scraper: other requests and scrapes are served while it reads, and it gets everything', async () => {
      appErrors.length = 0;
      const { res } = await openScrape();
      res.pause();
      const expected = Number(res.headers['content-length']);
      // While it does not read at all:
      for (let i = 0; i < 20; i++) {
        const ping = await send(server.url, { path: '/ping' });
        expect(ping.status).to.equal(200);
      }
      expectComplete(await scrapeOk(server.url, TOKEN));
      // Then while it reads a chunk at a time, with a pause after each.
      const chunks: Buffer[] = [];
      let pings = 0;
      for await (const chunk of res) {
        chunks.push(chunk as Buffer);
        await sleep(1);
        if (chunks.length % 20 === 0) {
          expect((await send(server.url, { path: '/ping' })).status).to.equal(200);
          pings++;
        }
      }
      expect(pings).to.be.greaterThan(0);
      const body = Buffer.concat(chunks);
      expect(body.length).to.equal(expected);
      expectComplete(body.toString('utf8'));
      expect(appErrors).to.deep.equal([]);
    });
  });

  describe("the service's own app.on('error')", () => {
    let metrics: ScanopyMetrics;
    let server: ListeningServer;
    const errors: unknown[] = [];
    const plainErrors: unknown[] = [];
    let plain: ListeningServer;

    before(async () => {
      const { app } = createApp({ logger: () => undefined });
      metrics = createMetrics({ token: TOKEN });
      app.middleware.unshift(metrics.firstMiddleware());
      app.on('error', (error: unknown) => errors.push(error));
      server = await listen(app);
      // A bare Koa app whose middleware throws, with Koa's own error handling.
      const bare = new Koa();
      bare.middleware.unshift(metrics.firstMiddleware());
      bare.use((ctx) => {
        if (ctx.path === '/teapot') ctx.throw(418, 'short and stout');
        throw new Error('bare boom');
      });
      bare.on('error', (error: unknown) => plainErrors.push(error));
      plain = await listen(bare);
    });
    after(async () => {
      await server.close();
      await plain.close();
      await metrics.shutdown();
    });

    it('still receives the errors the reference service re-emits', async () => {
      for (let i = 0; i < 3; i++) {
        const response = await send(server.url, { path: '/api/v1/debug/error' });
        expect(response.status).to.equal(500);
        expect(JSON.parse(response.body)).to.deep.equal({
          success: false,
          data: null,
          error: 'Internal server error',
        });
      }
      expect(errors).to.have.length(3);
      for (const error of errors) expect((error as Error).message).to.equal('boom');
      const text = await scrapeOk(server.url, TOKEN);
      expect(requestsTotal(text, 'GET', '/api/v1/debug/error', '500')).to.equal(3);
    });

    it("still receives what a bare Koa app's middleware throws, and Koa still answers it", async () => {
      const thrown = await send(plain.url, { path: '/x' });
      expect(thrown.status).to.equal(500);
      expect(thrown.body).to.equal('Internal Server Error');
      const teapot = await send(plain.url, { path: '/teapot' });
      expect(teapot.status).to.equal(418);
      expect(teapot.body).to.equal('short and stout');
      expect(plainErrors.map((e) => (e as Error).message)).to.deep.equal([
        'bare boom',
        'short and stout',
      ]);
    });
  });

  describe('the preloaded reference service in a child process', () => {
    const processes = new ReferenceProcesses();
    after(() => processes.stopAll());

    it("logs its errors through Koa's default handler exactly as without the package", async () => {
      const logs: string[] = [];
      for (const preload of [false, true]) {
        const service = await processes.start({ preload, env: { SCANOPY_METRICS_TOKEN: TOKEN } });
        for (let i = 0; i < 2; i++) {
          expect((await send(service.url, { path: '/api/v1/debug/error' })).status).to.equal(500);
        }
        expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
        // Stack frames differ in nothing but are normalised to their first line each.
        logs.push(
          service
            .stderr()
            .split('\n')
            .filter((line) => !/^\s+at /.test(line))
            .join('\n'),
        );
      }
      expect(logs[0].match(/Error: boom/g)).to.have.length(2);
      expect(logs[1]).to.equal(logs[0]);
    });
  });
});
