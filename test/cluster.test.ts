// node:cluster with the preload alone (issue 10, item 1): whichever worker answers a scrape, it
// serves the sum over every worker, exactly; a worker killed and replaced takes nothing away; a
// worker that does not answer in time is served from its last snapshot, and the scrape says so;
// a real Prometheus sees no reset, and increase() is exactly what was sent.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { expect } from './helpers/chai';
import { cannon } from './helpers/cannon';
import { Children, REQUIRE_PRELOAD, fixture, type ChildService } from './helpers/child';
import { eventsTotal, requestsTotal, sample } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { TOKEN } from './helpers/preloaded-service';
import { scrape, scrapeWithin } from './helpers/scrape-retry';
import { PrometheusServer, exactIncrease, waitUntil } from './helpers/prometheus-server';

const HOSTS = '/api/v1/hosts/:id';

function hosts(text: string): number {
  return requestsTotal(text, 'GET', HOSTS, '200');
}

/** A worker's pid: whichever worker the new connection lands on answers. */
async function workerPid(url: string): Promise<number> {
  return Number((await rawRequest(url, { path: '/pid' })).body);
}

/** Scrapes every `ms` until stopped, failing if a counter ever goes down. */
function watchMonotonic(url: string, ms = 100) {
  let running = true;
  let last = { hosts: 0, events: 0 };
  let scrapes = 0;
  const problems: string[] = [];
  const loop = (async () => {
    while (running) {
      const text = await scrapeWithin(url, 5000);
      if (text === undefined) continue;
      scrapes++;
      const now = {
        hosts: text.includes(`path="${HOSTS}"`) ? hosts(text) : 0,
        events: text.includes('scanopy_events_total{') ? eventsTotal(text, 'Host', 'created') : 0,
      };
      if (now.hosts < last.hosts || now.events < last.events) {
        problems.push(`went down: ${JSON.stringify(last)} -> ${JSON.stringify(now)}`);
      }
      last = now;
      await sleep(ms);
    }
  })();
  return {
    async stop(): Promise<{ scrapes: number; problems: string[] }> {
      running = false;
      await loop;
      return { scrapes, problems };
    },
  };
}

describe('node:cluster: one truth over every worker, with the preload alone', function () {
  this.timeout(180_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  const start = (env: Record<string, string> = {}): Promise<ChildService> =>
    children.start({
      fixture: fixture('cluster.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_WORKERS: '3', ...env },
    });

  it('3 workers under load: every scrape, whichever worker answers, equals what was sent', async () => {
    const service = await start();
    const watch = watchMonotonic(service.url);
    const load = await cannon({
      url: `${service.url}/api/v1/hosts/7`,
      amount: 3000,
      connections: 30,
    });
    expect(load.statuses).to.deep.equal({ '200': 3000 });
    for (let i = 0; i < 15; i++) {
      await rawRequest(service.url, { method: 'POST', path: '/publish?n=10' });
    }
    const { problems, scrapes } = await watch.stop();
    expect(problems).to.deep.equal([]);
    expect(scrapes).to.be.greaterThan(0);

    // New connections go round the workers: several of them answer.
    const pids = new Set<number>();
    for (let i = 0; i < 9; i++) pids.add(await workerPid(service.url));
    expect(pids.size).to.be.greaterThan(1);
    for (let i = 0; i < 9; i++) {
      const text = await scrape(service.url);
      expect(hosts(text)).to.equal(3000);
      expect(
        sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: HOSTS }),
      ).to.equal(3000);
      expect(eventsTotal(text, 'Host', 'created')).to.equal(150);
      expect(sample(text, 'scanopy_metrics_cluster_workers', { state: 'answered' })).to.equal(3);
      expect(sample(text, 'scanopy_metrics_cluster_workers', { state: 'late' })).to.equal(0);
      // Gauges add up too: the one request in flight is this scrape, in the worker answering it.
      expect(
        sample(text, 'http_requests_in_flight', { method: 'GET', entity_type: 'anonymous' }),
      ).to.equal(1);
      expect(
        sample(text, 'http_response_size_bytes_count', { method: 'GET', path: HOSTS }),
      ).to.equal(3000);
    }
    // The total goes through the route's negotiation and compression like one process's metrics.
    const om = await new Promise<{ type?: string; encoding?: string; text: string }>(
      (resolve, reject) => {
        const req = http.get(
          `${service.url}/metrics`,
          {
            agent: false,
            headers: {
              Authorization: `Bearer ${TOKEN}`,
              Accept: 'application/openmetrics-text;version=1.0.0',
              'Accept-Encoding': 'gzip',
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                type: res.headers['content-type'],
                encoding: res.headers['content-encoding'],
                text: gunzipSync(Buffer.concat(chunks)).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
      },
    );
    expect(om.type).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.encoding).to.equal('gzip');
    expect(om.text.endsWith('# EOF\n')).to.equal(true);
    expect(hosts(om.text)).to.equal(3000);
    expect(eventsTotal(om.text, 'Host', 'created')).to.equal(150);
    expect(sample(om.text, 'scanopy_metrics_cluster_workers', { state: 'answered' })).to.equal(3);
  });

  it('a worker killed with SIGKILL and replaced: the counters never go down, its requests stay', async () => {
    const service = await start();
    const watch = watchMonotonic(service.url);
    const first = await cannon({
      url: `${service.url}/api/v1/hosts/1`,
      amount: 600,
      connections: 12,
    });
    expect(first.statuses).to.deep.equal({ '200': 600 });
    await rawRequest(service.url, { method: 'POST', path: '/publish?n=20' });
    const victim = await workerPid(service.url);
    // A scrape after the last request: every worker's snapshot holds all it counted.
    expect(hosts(await scrape(service.url))).to.equal(600);
    process.kill(victim, 'SIGKILL');
    await waitUntil('the replacement worker to join', async () => {
      const text = await scrape(service.url);
      const exited = sample(text, 'scanopy_metrics_cluster_workers', { state: 'exited' });
      const answered = sample(text, 'scanopy_metrics_cluster_workers', { state: 'answered' });
      return exited === 1 && answered === 3 ? true : undefined;
    });
    const second = await cannon({
      url: `${service.url}/api/v1/hosts/2`,
      amount: 600,
      connections: 12,
    });
    expect(second.statuses).to.deep.equal({ '200': 600 });
    const { problems } = await watch.stop();
    expect(problems).to.deep.equal([]);
    const text = await scrape(service.url);
    expect(hosts(text)).to.equal(1200);
    expect(eventsTotal(text, 'Host', 'created')).to.equal(20);
  });

  it('a worker that does not answer in time is served from its last snapshot, and the scrape says so', async () => {
    const service = await start({ SCANOPY_METRICS_CLUSTER_TIMEOUT: '300' });
    for (let i = 0; i < 30; i++) await rawRequest(service.url, { path: `/api/v1/hosts/${i}` });
    const victim = await workerPid(service.url);
    expect(hosts(await scrape(service.url))).to.equal(30);
    process.kill(victim, 'SIGSTOP');
    try {
      // Connections handed to the stopped worker never answer: try until a live one does.
      const late = await waitUntil('a scrape answered by a live worker', () =>
        scrapeWithin(service.url, 2000),
      );
      expect(hosts(late)).to.equal(30);
      expect(sample(late, 'scanopy_metrics_cluster_workers', { state: 'late' })).to.equal(1);
      expect(sample(late, 'scanopy_metrics_cluster_workers', { state: 'answered' })).to.equal(2);
      expect(sample(late, 'scanopy_metrics_cluster_late_snapshots_total')).to.be.at.least(1);
    } finally {
      process.kill(victim, 'SIGCONT');
    }
    const text = await waitUntil('every worker answering again', async () => {
      const t = await scrape(service.url);
      return sample(t, 'scanopy_metrics_cluster_workers', { state: 'answered' }) === 3
        ? t
        : undefined;
    });
    expect(hosts(text)).to.equal(30);
  });

  it('a real Prometheus scraping the cluster: no reset, and increase() is exactly what was sent', async () => {
    const service = await start();
    // The series exists before Prometheus's first scrape.
    await rawRequest(service.url, { path: '/api/v1/hosts/0' });
    const prometheus = await PrometheusServer.start(children.tempDir(), {
      name: 'cluster',
      targets: [service.url.replace('http://', '')],
      token: TOKEN,
    });
    try {
      const selector = `http_requests_total{path="${HOSTS}",status="200"}`;
      const scraped = (value: number) =>
        waitUntil(`Prometheus to scrape ${value}`, async () => {
          const result = await prometheus.query(selector);
          return Number(result[0]?.value[1]) === value ? true : undefined;
        });
      await scraped(1);
      let sent = 1;
      for (let burst = 0; burst < 3; burst++) {
        const load = await cannon({
          url: `${service.url}/api/v1/hosts/3`,
          amount: 400,
          connections: 8,
        });
        expect(load.statuses).to.deep.equal({ '200': 400 });
        sent += 400;
        await scraped(sent);
        if (burst < 2) {
          // Killed after a scrape saw everything: what it counted stays in the total.
          process.kill(await workerPid(service.url), 'SIGKILL');
          await sleep(1500);
        }
      }
      await scraped(sent);
      const result = await exactIncrease(prometheus, selector);
      expect(result.resets).to.equal(0);
      expect(result.first).to.equal(1);
      expect(result.last).to.equal(sent);
      expect(result.increase).to.equal(sent - 1);
      const up = await prometheus.targets();
      expect(up.map((t) => t.health)).to.deep.equal(['up']);
    } finally {
      await prometheus.stop();
    }
  });
});
