// node:cluster over a primary's life: many workers killed and replaced hold the kept total to one
// series per label set (memory does not grow with the workers that come and go), and a worker
// started with other histogram buckets is summed on the bounds all have, never left out.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture, type ChildService } from './helpers/child';
import { requestsTotal, sample, series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { TOKEN } from './helpers/preloaded-service';
import { scrape } from './helpers/scrape-retry';
import { waitUntil } from './helpers/prometheus-server';

const HOSTS = '/api/v1/hosts/:id';
const DURATION = 'http_request_duration_seconds';

describe('node:cluster: worker churn and workers configured differently', function () {
  this.timeout(240_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  const start = (env: Record<string, string>): Promise<ChildService> =>
    children.start({
      fixture: fixture('cluster.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
    });

  it('6 workers killed and replaced: the total is exact and the kept series do not grow', async () => {
    const service = await start({ FIXTURE_WORKERS: '2' });
    const RESTARTS = 6;
    const kept: number[] = [];
    for (let restart = 1; restart <= RESTARTS; restart++) {
      let victim = 0;
      for (let i = 0; i < 10; i++) {
        const res = await rawRequest(service.url, { path: `/api/v1/hosts/${i}` });
        expect(res.status).to.equal(200);
      }
      victim = Number((await rawRequest(service.url, { path: '/pid' })).body);
      // A scrape after the requests: every worker's snapshot holds what it counted.
      expect(requestsTotal(await scrape(service.url), 'GET', HOSTS, '200')).to.equal(
        (restart - 1) * 10 + 10,
      );
      process.kill(victim, 'SIGKILL');
      const text = await waitUntil(`the replacement of worker ${restart}`, async () => {
        const t = await scrape(service.url);
        const exited = sample(t, 'scanopy_metrics_cluster_workers', { state: 'exited' });
        const answered = sample(t, 'scanopy_metrics_cluster_workers', { state: 'answered' });
        return exited === restart && answered === 2 ? t : undefined;
      });
      kept.push(sample(text, 'scanopy_metrics_cluster_retained_series'));
    }
    const text = await scrape(service.url);
    expect(requestsTotal(text, 'GET', HOSTS, '200')).to.equal(RESTARTS * 10);
    expect(sample(text, 'scanopy_metrics_cluster_workers', { state: 'exited' })).to.equal(RESTARTS);
    // Every victim had served the same label sets (and the /pid and /metrics routes): from the
    // second restart on, an exited worker adds no series to what is kept, only to their values.
    expect(kept[1]).to.be.greaterThan(0);
    expect(new Set(kept.slice(2))).to.deep.equal(new Set([kept[2]]));
  });

  it('a worker started with other buckets: summed exactly on the bounds both have, said once', async () => {
    const dir = children.tempDir();
    const second = path.join(dir, 'otel-config.yaml');
    writeFileSync(
      second,
      [
        "file_format: '1.0'",
        'meter_provider:',
        '  views:',
        '    - selector:',
        `        instrument_name: ${DURATION}`,
        '      stream:',
        '        aggregation:',
        '          explicit_bucket_histogram:',
        '            boundaries: [0.005, 0.1, 1, 7]',
        '',
      ].join('\n'),
    );
    const service = await start({ FIXTURE_WORKERS: '2', FIXTURE_SECOND_CONFIG: second });
    const workers = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const res = await rawRequest(service.url, { path: `/api/v1/hosts/${i}` });
      workers.add((JSON.parse(res.body) as { worker: number }).worker);
    }
    // New connections go round the workers: both served some of the 20.
    expect(workers.size).to.equal(2);
    for (let i = 0; i < 3; i++) {
      const text = await scrape(service.url);
      const labels = { method: 'GET', path: HOSTS };
      expect(sample(text, `${DURATION}_count`, labels)).to.equal(20);
      const les = series(text, `${DURATION}_bucket`)
        .filter((s) => s.labels.path === HOSTS)
        .map((s) => s.labels.le);
      expect(les).to.deep.equal(['0.005', '0.1', '1', '+Inf']);
      expect(sample(text, `${DURATION}_bucket`, { ...labels, le: '+Inf' })).to.equal(20);
      expect(sample(text, 'scanopy_metrics_cluster_rebucketed', { metric: DURATION })).to.equal(1);
    }
    const told = service.stderrLines().filter((l) => l.includes(`histogram ${DURATION}`));
    expect(told).to.have.length(1);
    expect(told[0]).to.equal(
      `scanopy-metrics: cluster: the workers' histogram ${DURATION} has different buckets (a worker started with another configuration); the total is served on the bounds they all have (scanopy_metrics_cluster_rebucketed)`,
    );
  });
});
