// Egg.js 3 and 4 in cluster mode (a master, an agent, 2 app workers), preloaded and nothing else
// (issue 10, item 2): every scrape is the sum over the app workers, a worker killed and reforked
// by Egg's master takes nothing away, and a real Prometheus sees no reset.
import path from 'node:path';
import { expect } from './helpers/chai';
import { cannon } from './helpers/cannon';
import { Children, FIXTURES, REQUIRE_PRELOAD } from './helpers/child';
import { eventsTotal, requestsTotal, sample } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { TOKEN } from './helpers/preloaded-service';
import { scrape, scrapeWithin } from './helpers/scrape-retry';
import { PrometheusServer, exactIncrease, freePort, waitUntil } from './helpers/prometheus-server';

const HOSTS = '/api/v1/hosts/:id';

for (const [title, egg, kill] of [
  ['Egg.js 3', 'egg-3', true],
  ['Egg.js 4', 'egg', true],
] as const) {
  describe(`${title} cluster mode: one truth over the app workers, with the preload alone`, function () {
    this.timeout(240_000);
    const children = new Children();
    afterEach(() => children.stopAll());

    it(`exact sums under load${kill ? ', a worker SIGKILLed and reforked' : ''}, a real Prometheus: no reset`, async () => {
      const dir = children.tempDir();
      const port = await freePort();
      const service = await children.start({
        fixture: path.join(FIXTURES, 'egg-cluster', 'server.js'),
        nodeArgs: REQUIRE_PRELOAD,
        cwd: dir,
        env: {
          SCANOPY_METRICS_TOKEN: TOKEN,
          EGG_SERVER_ENV: 'prod',
          HOME: dir,
          FIXTURE_PORT: String(port),
          FIXTURE_WORKERS: '2',
          FIXTURE_EGG: egg,
          FIXTURE_LOG_DIR: path.join(dir, 'logs'),
          FIXTURE_RUN_DIR: path.join(dir, 'run'),
        },
      });
      const hosts = (text: string) => requestsTotal(text, 'GET', HOSTS, '200');
      const workers = (text: string, state: string) =>
        sample(text, 'scanopy_metrics_cluster_workers', { state });

      await rawRequest(service.url, { path: '/api/v1/hosts/0' });
      const prometheus = await PrometheusServer.start(children.tempDir(), {
        name: 'egg',
        targets: [`127.0.0.1:${port}`],
        token: TOKEN,
      });
      try {
        const selector = `http_requests_total{path="${HOSTS}",status="200"}`;
        const scraped = (value: number) =>
          waitUntil(
            `Prometheus to scrape ${value}`,
            async () => {
              const result = await prometheus.query(selector);
              return Number(result[0]?.value[1]) === value ? true : undefined;
            },
            60_000,
          );
        await scraped(1);

        const load = await cannon({
          url: `${service.url}/api/v1/hosts/5`,
          amount: 1000,
          connections: 10,
        });
        expect(load.statuses).to.deep.equal({ '200': 1000 });
        await rawRequest(service.url, { method: 'POST', path: '/publish?n=7' });
        for (let i = 0; i < 6; i++) {
          const text = await scrape(service.url);
          expect(hosts(text)).to.equal(1001);
          expect(eventsTotal(text, 'Host', 'created')).to.equal(7);
          expect(workers(text, 'answered')).to.equal(2);
        }
        await scraped(1001);

        if (kill) {
          // Egg's master forks a new app worker when one dies (in prod).
          const victim = Number((await rawRequest(service.url, { path: '/pid' })).body);
          expect(hosts(await scrape(service.url))).to.equal(1001);
          process.kill(victim, 'SIGKILL');
          await waitUntil(
            'the reforked app worker to join',
            async () => {
              const text = await scrapeWithin(service.url, 5000);
              if (text === undefined) return undefined;
              return workers(text, 'exited') === 1 && workers(text, 'answered') === 2
                ? true
                : undefined;
            },
            120_000,
            500,
          );
        }
        const more = await cannon({
          url: `${service.url}/api/v1/hosts/6`,
          amount: 500,
          connections: 10,
        });
        expect(more.statuses).to.deep.equal({ '200': 500 });
        const text = await scrape(service.url);
        expect(hosts(text)).to.equal(1501);
        expect(eventsTotal(text, 'Host', 'created')).to.equal(7);

        await scraped(1501);
        const result = await exactIncrease(prometheus, selector);
        expect(result.resets).to.equal(0);
        expect(result.increase).to.equal(1500);
      } finally {
        await prometheus.stop();
      }
    });
  });
}
