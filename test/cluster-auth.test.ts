// node:cluster: the failed-authentication limit holds for the whole cluster, not per worker.
// Behind one port, connections go round the workers: were the limit per worker, a client
// guessing tokens would get as many guesses as there are workers times the limit.
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { rawRequest } from './helpers/http';
import { TOKEN } from './helpers/preloaded-service';
import { scrape } from './helpers/scrape-retry';
import { sample } from './helpers/exposition';

describe('node:cluster: one failed-authentication limit for every worker', function () {
  this.timeout(120_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  it('3 workers, a limit of 4 a minute: 4 guesses in all answer 401, every further one 429', async () => {
    const service = await children.start({
      fixture: fixture('cluster.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: {
        SCANOPY_METRICS_TOKEN: TOKEN,
        FIXTURE_WORKERS: '3',
        SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '4',
      },
    });
    // Every worker has joined the primary (a worker's failures are shared once it has).
    expect(
      sample(await scrape(service.url), 'scanopy_metrics_cluster_workers', { state: 'answered' }),
    ).to.equal(3);
    const workers = new Set<number>();
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      // A new connection each time: the primary hands them to the workers in turn.
      const res = await rawRequest(service.url, {
        path: '/metrics',
        headers: { Authorization: 'Bearer wrong-guess' },
      });
      statuses.push(res.status);
      workers.add(Number((await rawRequest(service.url, { path: '/pid' })).body));
    }
    expect(workers.size).to.equal(3);
    expect(statuses).to.deep.equal([401, 401, 401, 401, ...new Array<number>(11).fill(429)]);
  });
});
