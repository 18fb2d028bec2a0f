// Nothing lost under load (issue 5). autocannon drives the reference service at full speed while
// the test scrapes /metrics every 100 ms and the service publishes events as it answers (an entity
// event per write, an auth event per rejected credential): afterwards every counter equals exactly
// what was sent. Then the same in one process, with five scrapers looping without pause and
// events published on the service's bus to the observer.
import { setTimeout as sleep } from 'node:timers/promises';

import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { createApp } from '../reference-service/app';
import type { EventBus } from '../reference-service/bus';
import { DEMO_USER_SESSION } from '../reference-service/auth';
import { cannon } from './helpers/cannon';
import type { CannonResult } from './helpers/cannon';
import { expect } from './helpers/chai';
import { parseExposition, requestsRow, sample, table } from './helpers/exposition';
import type { Row } from './helpers/exposition';
import { ReferenceProcesses } from './helpers/reference-process';
import { scrapeOk, send } from './helpers/request';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'load-test-token-3b9e71';
const USER = { Authorization: `Bearer ${DEMO_USER_SESSION}` };
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** `name{labels}` → value, for the counters and histogram counts the test compares. */
function values(text: string, names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of parseExposition(text)) {
    if (names.includes(s.name)) out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

const COUNTED = [
  'http_requests_total',
  'http_request_duration_seconds_count',
  'scanopy_events_total',
] as const;

/** Fails when a counter went down, or a series disappeared, between two scrapes. */
function expectMonotonic(before: Map<string, number>, after: Map<string, number>): void {
  for (const [key, value] of before) {
    const now = after.get(key);
    expect(now, `${key} vanished`).to.not.equal(undefined);
    expect(now, `${key} went down`).to.be.at.least(value);
  }
}

function expectClean(result: CannonResult, what: string, statuses: Record<string, number>): void {
  expect(
    {
      statuses: result.statuses,
      errors: result.errors,
      timeouts: result.timeouts,
      resets: result.resets,
      mismatches: result.mismatches,
    },
    what,
  ).to.deep.equal({ statuses, errors: 0, timeouts: 0, resets: 0, mismatches: 0 });
}

describe('nothing lost under load', function () {
  this.timeout(60_000);

  describe('the preloaded reference service, driven by autocannon, scraped every 100 ms', () => {
    const processes = new ReferenceProcesses();
    after(() => processes.stopAll());

    it('counts every request, every duration and every event exactly, and no request fails', async () => {
      const service = await processes.start({ env: { SCANOPY_METRICS_TOKEN: TOKEN } });
      const created = await send(service.url, {
        method: 'POST',
        path: '/api/v1/hosts',
        headers: { ...USER, ...JSON_TYPE },
        body: JSON.stringify({ name: 'under-load' }),
      });
      expect(created.status).to.equal(201);
      const hostId = (JSON.parse(created.body) as { data: { id: string } }).data.id;

      // Scrape every 100 ms until the load is over; every scrape must succeed, and no counter
      // may go down from one scrape to the next.
      let loading = true;
      let scrapes = 0;
      let previous = new Map<string, number>();
      const scraper = (async () => {
        while (loading) {
          const text = await scrapeOk(service.url, TOKEN);
          scrapes++;
          const current = values(text, COUNTED);
          expectMonotonic(previous, current);
          previous = current;
          await sleep(100);
        }
      })();

      const GETS = 5000;
      const CREATES = 1000;
      const BAD_SESSIONS = 600;
      const BAD_KEYS = 400;
      let results: CannonResult[];
      try {
        results = await Promise.all([
          cannon({
            url: `${service.url}/api/v1/hosts/${hostId}`,
            amount: GETS,
            connections: 10,
            headers: USER,
          }),
          cannon({
            url: `${service.url}/api/v1/hosts`,
            amount: CREATES,
            connections: 5,
            method: 'POST',
            headers: { ...USER, ...JSON_TYPE },
            body: JSON.stringify({ name: 'h', hostname: 'h.local' }),
          }),
          // Wrong credentials: each one is a 401 and an auth event published by the service.
          cannon({
            url: `${service.url}/api/v1/hosts`,
            amount: BAD_SESSIONS,
            connections: 4,
            headers: { Authorization: 'Bearer not-a-session' },
          }),
          cannon({
            url: `${service.url}/api/v1/networks`,
            amount: BAD_KEYS,
            connections: 4,
            headers: { 'X-Api-Key': 'not-a-key' },
          }),
        ]);
      } finally {
        loading = false;
        await scraper;
      }
      const [gets, creates, badSessions, badKeys] = results;
      expectClean(gets, 'GET /api/v1/hosts/:id', { '200': GETS });
      expectClean(creates, 'POST /api/v1/hosts', { '201': CREATES });
      expectClean(badSessions, 'wrong session', { '401': BAD_SESSIONS });
      expectClean(badKeys, 'wrong API key', { '401': BAD_KEYS });
      // The load lasted long enough to be scraped while it ran.
      expect(scrapes).to.be.at.least(2);

      const text = await scrapeOk(service.url, TOKEN);
      expectMonotonic(previous, values(text, COUNTED));
      expect(table(text, 'http_requests_total')).to.have.deep.members([
        requestsRow('POST', '/api/v1/hosts', '201', 'user', 1 + CREATES),
        requestsRow('GET', '/metrics', '200', 'anonymous', scrapes),
        requestsRow('GET', '/api/v1/hosts/:id', '200', 'user', GETS),
        requestsRow('GET', '/api/v1/hosts', '401', 'anonymous', BAD_SESSIONS),
        requestsRow('GET', '/api/v1/networks', '401', 'anonymous', BAD_KEYS),
      ]);
      const durations: Row[] = [
        [{ method: 'POST', path: '/api/v1/hosts' }, 1 + CREATES],
        [{ method: 'GET', path: '/metrics' }, scrapes],
        [{ method: 'GET', path: '/api/v1/hosts/:id' }, GETS],
        [{ method: 'GET', path: '/api/v1/hosts' }, BAD_SESSIONS],
        [{ method: 'GET', path: '/api/v1/networks' }, BAD_KEYS],
      ];
      expect(table(text, 'http_request_duration_seconds_count')).to.have.deep.members(durations);
      for (const [labels, count] of durations) {
        expect(
          sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
        ).to.equal(count);
      }
      expect(table(text, 'scanopy_events_total')).to.have.deep.members([
        [{ entity: 'Host', operation: 'created' }, 1 + CREATES],
        [{ entity: 'auth', operation: 'login_failed' }, BAD_SESSIONS],
        [{ entity: 'auth', operation: 'api_key_auth_failed' }, BAD_KEYS],
      ]);
      // The service created exactly the hosts that were counted.
      const list = await send(service.url, { path: '/api/v1/hosts', headers: USER });
      expect((JSON.parse(list.body) as { meta: { total: number } }).meta.total).to.equal(
        1 + CREATES,
      );
      expect(service.stderr()).to.equal('');
    });
  });

  describe('in one process, five scrapers looping while requests and bus events pour in', () => {
    let metrics: ScanopyMetrics;
    let server: ListeningServer;
    let bus: EventBus;

    beforeEach(async () => {
      const service = createApp({ logger: () => undefined });
      bus = service.bus;
      metrics = createMetrics({ token: TOKEN });
      // Exactly as the preload wires it: one middleware in front of the app's own.
      service.app.middleware.unshift(metrics.firstMiddleware());
      bus.subscribe(metrics.observer);
      server = await listen(service.app);
    });
    afterEach(async () => {
      await server.close();
      await metrics.shutdown();
    });

    it('ends with http_requests_total == N and the histogram count == N, events exact', async () => {
      const N = 2000;
      const EVENTS = 3000;
      let loading = true;
      const scrapes: number[] = [0, 0, 0, 0, 0];
      const scrapers = scrapes.map(async (_, i) => {
        while (loading) {
          await scrapeOk(server.url, TOKEN);
          scrapes[i]++;
        }
      });
      // Events published on the service's bus (which hands them to the observer) as fast as it
      // takes them, in batches of 100 between turns of the event loop.
      const publisher = (async () => {
        for (let i = 0; i < EVENTS; i++) {
          await bus.publish({ kind: 'telemetry', operation: 'org_created' });
          if (i % 100 === 99) await sleep(0);
        }
      })();
      let result: CannonResult;
      try {
        result = await cannon({ url: `${server.url}/api/health`, amount: N, connections: 20 });
        await publisher;
      } finally {
        loading = false;
        await Promise.all(scrapers);
      }
      expectClean(result, 'GET /api/health', { '200': N });
      for (const count of scrapes) expect(count).to.be.at.least(1);
      const scraped = scrapes.reduce((a, b) => a + b, 0);

      const text = await scrapeOk(server.url, TOKEN);
      expect(table(text, 'http_requests_total')).to.have.deep.members([
        [{ method: 'GET', path: '/metrics', status: '200', entity_type: 'anonymous' }, scraped],
        [{ method: 'GET', path: '/api/health', status: '200', entity_type: 'anonymous' }, N],
      ]);
      const labels = { method: 'GET', path: '/api/health' };
      expect(sample(text, 'http_request_duration_seconds_count', labels)).to.equal(N);
      expect(
        sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
      ).to.equal(N);
      expect(table(text, 'scanopy_events_total')).to.deep.equal([
        [{ entity: 'telemetry', operation: 'org_created' }, EVENTS],
      ]);
    });
  });
});
