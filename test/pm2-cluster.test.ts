// PM2 cluster mode (`pm2 start -i 2`), preloaded through --node-args (issue 10, item 2). PM2's
// primary is its own daemon, where the preload does not run, so each worker serves its own
// metrics on a port of its own (SCANOPY_METRICS_PORT + NODE_APP_INSTANCE) and Prometheus scrapes
// one target per worker: the targets add up to what was sent, exactly, and a worker that PM2
// restarts after SIGKILL is one true reset of its own target, which increase() counts right.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from './helpers/chai';
import { cannon } from './helpers/cannon';
import { Children, REGISTER_CJS, REPO, childEnv, fixture } from './helpers/child';
import { requestsTotal } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { TOKEN, scrapeChild } from './helpers/preloaded-service';
import { PrometheusServer, exactIncrease, freePort, waitUntil } from './helpers/prometheus-server';

const PM2 = path.join(REPO, 'node_modules', '.bin', 'pm2');
const HOSTS = '/api/v1/hosts/:id';

/** Runs the pm2 CLI with its own PM2_HOME; resolves with its output once it exits. */
function pm2(home: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PM2, args, {
      env: childEnv({ PM2_HOME: home, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`pm2 ${args[0]} exited ${code}: ${output}`)),
    );
  });
}

describe('PM2 cluster mode: a metrics port per worker', function () {
  this.timeout(240_000);
  const children = new Children();
  let home: string | undefined;
  afterEach(async () => {
    if (home !== undefined) await pm2(home, ['kill']);
    home = undefined;
    await children.stopAll();
  });

  it('pm2 start -i 2: the per-worker targets add up exactly; a restarted worker is one true reset', async () => {
    home = children.tempDir();
    const port = await freePort();
    const metricsPort = await freePort();
    await pm2(
      home,
      [
        'start',
        fixture('cluster.cjs'),
        '-i',
        '2',
        '--name',
        'scanopy-fixture',
        `--node-args=--require ${REGISTER_CJS}`,
      ],
      {
        FIXTURE_PORT: String(port),
        SCANOPY_METRICS_TOKEN: TOKEN,
        SCANOPY_METRICS_PORT: String(metricsPort),
        SCANOPY_METRICS_PORT_PER_INSTANCE: 'true',
      },
    );
    const url = `http://127.0.0.1:${port}`;
    const targets = [metricsPort, metricsPort + 1].map((p) => `http://127.0.0.1:${p}`);
    const hosts = async (target: string) => {
      const text = await scrapeChild(target);
      return text.includes(`path="${HOSTS}"`) ? requestsTotal(text, 'GET', HOSTS, '200') : 0;
    };
    await waitUntil('both workers to serve', async () => {
      const up = await Promise.all(
        [url, ...targets].map((t) =>
          rawRequest(t, { path: '/pid' }).then(
            () => true,
            () => false,
          ),
        ),
      );
      return up.every(Boolean) ? true : undefined;
    });
    // The series exists on both targets before Prometheus's first scrape.
    for (let i = 0; i < 20; i++) await rawRequest(url, { path: '/api/v1/hosts/0' });
    let warmup = 0;
    for (const target of targets) warmup += await hosts(target);
    expect(warmup).to.equal(20);

    const prometheus = await PrometheusServer.start(children.tempDir(), {
      name: 'pm2',
      targets: targets.map((t) => t.replace('http://', '')),
      token: TOKEN,
    });
    try {
      const selector = `http_requests_total{path="${HOSTS}",status="200"}`;
      const scraped = (value: number) =>
        waitUntil(
          `Prometheus to scrape ${value} in all`,
          async () => {
            const result = await prometheus.query(`sum(${selector})`);
            return Number(result[0]?.value[1]) === value ? true : undefined;
          },
          60_000,
        );
      await scraped(20);
      const load = await cannon({ url: `${url}/api/v1/hosts/1`, amount: 1000, connections: 10 });
      expect(load.statuses).to.deep.equal({ '200': 1000 });
      const each = await Promise.all(targets.map(hosts));
      expect(each[0] + each[1]).to.equal(1020);
      expect(each.every((n) => n > 0)).to.equal(true);
      await scraped(1020);

      // PM2 restarts a worker that dies, with the same NODE_APP_INSTANCE and so the same port.
      const victim = Number((await rawRequest(url, { path: '/pid' })).body);
      process.kill(victim, 'SIGKILL');
      await waitUntil('the restarted worker to serve', async () => {
        const pid = await rawRequest(url, { path: '/pid' }).catch(() => undefined);
        const all = await Promise.all(targets.map((t) => scrapeChild(t).catch(() => undefined)));
        return pid && all.every((t) => t !== undefined) ? true : undefined;
      });
      const more = await cannon({ url: `${url}/api/v1/hosts/2`, amount: 500, connections: 10 });
      expect(more.statuses).to.deep.equal({ '200': 500 });
      const after = await Promise.all(targets.map(hosts));

      // Per target: increase() over its samples is what it counted, reset or not.
      let increase = 0;
      let resets = 0;
      for (const [i, target] of targets.entries()) {
        const instance = target.replace('http://', '');
        await waitUntil(`Prometheus to scrape ${after[i]} from ${instance}`, async () => {
          const result = await prometheus.query(`${selector.slice(0, -1)},instance="${instance}"}`);
          return Number(result[0]?.value[1]) === after[i] ? true : undefined;
        });
        const one = await exactIncrease(
          prometheus,
          `${selector.slice(0, -1)},instance="${instance}"}`,
        );
        increase += one.increase + one.first;
        resets += one.resets;
      }
      expect(resets).to.equal(1);
      // Everything sent, except what the killed worker counted after Prometheus's last scrape
      // of it (nothing here: it was killed after a scrape that saw all of it).
      expect(increase).to.equal(1520);
    } finally {
      await prometheus.stop();
    }
  });
});
