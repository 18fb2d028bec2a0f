// The scrape side (issue 3, sections 3 and 4): a real Prometheus server scrapes the reference
// service, preloaded with `node --require scanopy-metrics/register` and started the way users
// start it, and the values are read back through Prometheus's HTTP query API; the shipped
// deploy/prometheus.yml and the Prometheus part of deploy/otel-collector.yaml pass
// `promtool check config`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { parse, stringify } from 'yaml';

import { DEMO_USER_SESSION } from '../reference-service/auth';
import { expect } from './helpers/chai';
import { PROMTOOL } from './helpers/promtool';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER_SCRIPT = path.join('build', 'reference-service', 'server.js');
const DEPLOY = path.join(ROOT, 'deploy');
const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
/** The credentials_file of the shipped configurations, which does not exist on a test machine. */
const SHIPPED_TOKEN_FILE = /^\/etc\/.*scanopy-metrics-token$/;

/** A child process with its output collected and its exit awaitable. */
interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it has exited. */
  done(): boolean;
}

function start(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let finished = false;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'error' (the command cannot be run) is followed by no 'exit'; resolve on either.
    child.once('error', (error) => {
      output += `\ncannot run ${command}: ${error.message}`;
      finished = true;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      finished = true;
      resolve({ code, signal });
    });
  });
  const proc: Proc = { child, output: () => output, exited, done: () => finished };
  return proc;
}

/** SIGTERM by pid, then waits for the exit (SIGKILL after 10 s); resolves at once if gone. */
async function stop(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.done() || proc.child.pid === undefined) return;
  process.kill(proc.child.pid, 'SIGTERM');
  // The grace timer is cancelled once the process exits: a pending timer would keep mocha
  // (which runs without --exit) alive until it fires.
  const grace = new AbortController();
  const killed = await Promise.race([
    proc.exited.then(() => false),
    sleep(10_000, true, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (killed && !proc.done()) {
    process.kill(proc.child.pid, 'SIGKILL');
    await proc.exited;
  }
}

function tail(text: string, chars = 3000): string {
  return text.length > chars ? `...${text.slice(-chars)}` : text;
}

/** A loopback port that was free a moment ago: listen on port 0, note the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Calls `check` every `intervalMs` until it returns something other than undefined, for at most
 * `timeoutMs`; then fails with `state()` (the last state seen). A wait for a condition, not a
 * timing assertion.
 */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  state: () => string,
  timeoutMs = 30_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${state()}`);
    }
    await sleep(intervalMs);
  }
}

/** `promtool check config FILE`: exit code and output. */
function checkConfig(file: string): Promise<{ code: number | null; output: string }> {
  const proc = start(PROMTOOL, ['check', 'config', file], {});
  return proc.exited.then(({ code }) => ({ code, output: proc.output() }));
}

/** The service started as users start it, preloaded, on a port the OS picks. */
async function startService(token: string): Promise<{ proc: Proc; url: string }> {
  // Only what the test sets: no SCANOPY_* or OTEL_* variable of the calling shell leaks in.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SCANOPY_') && !key.startsWith('OTEL_')) env[key] = value;
  }
  env.SCANOPY_SERVER_PORT = '0';
  env.SCANOPY_METRICS_TOKEN = token;
  const proc = start(process.execPath, ['--require', 'scanopy-metrics/register', SERVER_SCRIPT], {
    cwd: ROOT,
    env,
  });
  const url = await waitFor(
    'the reference service to print its address',
    () => {
      if (proc.done()) throw new Error(`the reference service exited: ${proc.output()}`);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(proc.output());
      return Promise.resolve(match?.[1]);
    },
    () => `output: ${proc.output()}`,
    15_000,
    50,
  );
  return { proc, url };
}

interface PrometheusServer {
  proc: Proc;
  url: string;
}

/**
 * Prometheus on a free loopback port with its own storage under `dir`, ready to answer. Retried
 * on another port when the one picked was taken in the meantime.
 */
async function startPrometheus(configFile: string, dir: string): Promise<PrometheusServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = start(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, `data-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir },
    );
    try {
      await waitFor(
        `Prometheus to be ready on ${url}`,
        async () => {
          if (proc.done()) throw new Error(`Prometheus exited: ${tail(proc.output())}`);
          try {
            const res = await fetch(`${url}/-/ready`);
            await res.text();
            return res.status === 200 ? true : undefined;
          } catch {
            return undefined; // not listening yet
          }
        },
        () => `Prometheus output: ${tail(proc.output())}`,
        30_000,
        200,
      );
      return { proc, url };
    } catch (error) {
      await stop(proc);
      if (attempt < 3 && /address already in use/.test(proc.output())) continue;
      throw error;
    }
  }
}

interface Target {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function prometheusApi<T>(base: string, apiPath: string): Promise<T> {
  const res = await fetch(base + apiPath);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (res.status !== 200 || body.status !== 'success') {
    throw new Error(`${apiPath} answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.data;
}

function query(base: string, promql: string): Promise<QueryResult[]> {
  return prometheusApi<{ resultType: string; result: QueryResult[] }>(
    base,
    `/api/v1/query?query=${encodeURIComponent(promql)}`,
  ).then((data) => data.result);
}

function targets(base: string): Promise<Target[]> {
  return prometheusApi<{ activeTargets: Target[] }>(base, '/api/v1/targets?state=active').then(
    (data) => data.activeTargets,
  );
}

// A parsed YAML document, walked without `any`.
type Yaml = Record<string, unknown>;

function asObject(value: unknown, where: string): Yaml {
  expect(value, where).to.be.an('object').and.not.be.an('array');
  return value as Yaml;
}

function asArray(value: unknown, where: string): unknown[] {
  expect(value, where).to.be.an('array');
  return value as unknown[];
}

/** The one scrape job of a Prometheus configuration, checked to scrape the metrics route. */
function scanopyJob(prometheusConfig: Yaml, where: string): Yaml {
  const jobs = asArray(prometheusConfig.scrape_configs, `${where}.scrape_configs`);
  expect(jobs, `${where}.scrape_configs`).to.have.length(1);
  const job = asObject(jobs[0], `${where}.scrape_configs[0]`);
  expect(job.job_name).to.equal('scanopy');
  expect(job.metrics_path).to.equal('/metrics');
  const authorization = asObject(job.authorization, `${where}.scrape_configs[0].authorization`);
  expect(authorization.type).to.equal('Bearer');
  expect(authorization.credentials_file).to.match(SHIPPED_TOKEN_FILE);
  expect(authorization, 'the token is read from a file, not written inline').not.to.have.property(
    'credentials',
  );
  return job;
}

/**
 * `promtool check config` on a copy of `config` whose credentials_file points at an existing
 * (temporary) token file: promtool fails on a credentials_file that does not exist, and the
 * shipped path exists only where the secret is mounted.
 */
async function checkWithTokenFile(config: string, dir: string): Promise<void> {
  const tokenFile = path.join(dir, 'scanopy-metrics-token');
  await writeFile(tokenFile, 'a-token\n', { mode: 0o600 });
  const copy = config.replace(
    /credentials_file: \/etc\/\S*scanopy-metrics-token$/gm,
    `credentials_file: ${tokenFile}`,
  );
  expect(copy, 'the copy points at the temporary token file').to.include(tokenFile);
  expect(copy, 'every credentials_file is replaced').not.to.match(/credentials_file: \/etc\//);
  const file = path.join(dir, 'prometheus.yml');
  await writeFile(file, copy);
  const { code, output } = await checkConfig(file);
  expect(code, output).to.equal(0);
  expect(output).to.match(/SUCCESS/);
}

describe('scrapers (deploy/)', function () {
  this.timeout(60000);

  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-deploy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('deploy/prometheus.yml', () => {
    it('scrapes /metrics every 15 s with the token from /etc/prometheus/scanopy-metrics-token', async () => {
      const config = asObject(
        parse(await readFile(path.join(DEPLOY, 'prometheus.yml'), 'utf8')),
        'prometheus.yml',
      );
      expect(asObject(config.global, 'global').scrape_interval).to.equal('15s');
      const job = scanopyJob(config, 'prometheus.yml');
      expect(asObject(job.authorization, 'authorization').credentials_file).to.equal(
        '/etc/prometheus/scanopy-metrics-token',
      );
    });

    it('passes promtool check config (with the token file present)', async () => {
      await checkWithTokenFile(await readFile(path.join(DEPLOY, 'prometheus.yml'), 'utf8'), dir);
    });

    it('fails promtool check config where the token file is missing, naming it', async () => {
      // Why the test above uses a copy: promtool checks that credentials_file exists.
      const config = await readFile(path.join(DEPLOY, 'prometheus.yml'), 'utf8');
      const file = path.join(dir, 'prometheus.yml');
      await writeFile(
        file,
        config.replace(/credentials_file: \S+$/m, `credentials_file: ${dir}/missing-token`),
      );
      const { code, output } = await checkConfig(file);
      expect(code, output).to.equal(1);
      expect(output).to.include(`${dir}/missing-token`);
    });
  });

  describe('deploy/otel-collector.yaml', () => {
    let collector: Yaml;
    beforeEach(async () => {
      const text = await readFile(path.join(DEPLOY, 'otel-collector.yaml'), 'utf8');
      collector = asObject(parse(text), 'otel-collector.yaml');
    });

    it('wires the prometheus receiver, batch processor and exporters into a metrics pipeline', () => {
      const receivers = asObject(collector.receivers, 'receivers');
      const processors = asObject(collector.processors, 'processors');
      const exporters = asObject(collector.exporters, 'exporters');
      expect(receivers).to.have.property('prometheus');
      expect(processors).to.have.property('batch');
      expect(exporters).to.include.keys('debug');
      expect(Object.keys(exporters), 'an exporter that sends the metrics on').to.satisfy(
        (names: string[]) =>
          names.some((n) => /^(otlp|otlphttp|prometheusremotewrite)(\/|$)/.test(n)),
      );

      const service = asObject(collector.service, 'service');
      const pipelines = asObject(service.pipelines, 'service.pipelines');
      const metrics = asObject(pipelines.metrics, 'service.pipelines.metrics');
      expect(metrics.receivers).to.deep.equal(['prometheus']);
      expect(metrics.processors).to.deep.equal(['batch']);
      // Every component a pipeline names is defined (otelcol refuses the file otherwise), and
      // every exporter defined is used.
      for (const [name, pipeline] of Object.entries(pipelines)) {
        const p = asObject(pipeline, `service.pipelines.${name}`);
        for (const [kind, defined] of [
          ['receivers', receivers],
          ['processors', processors],
          ['exporters', exporters],
        ] as const) {
          for (const component of asArray(p[kind] ?? [], `${name}.${kind}`)) {
            expect(defined, `${name}.${kind}: ${String(component)}`).to.have.property(
              String(component),
            );
          }
        }
      }
      expect(metrics.exporters).to.have.members(Object.keys(exporters));
    });

    it('scrapes the same endpoint as deploy/prometheus.yml, with the token from a file', async () => {
      const prometheus = asObject(
        parse(await readFile(path.join(DEPLOY, 'prometheus.yml'), 'utf8')),
        'prometheus.yml',
      );
      const receiver = asObject(
        asObject(collector.receivers, 'receivers').prometheus,
        'prometheus',
      );
      const job = scanopyJob(asObject(receiver.config, 'prometheus.config'), 'prometheus.config');
      const shipped = scanopyJob(prometheus, 'prometheus.yml');
      expect(job.scrape_interval).to.equal('15s');
      expect(job.static_configs).to.deep.equal(shipped.static_configs);
      expect(job.scheme).to.equal(shipped.scheme);
      expect(asObject(job.authorization, 'authorization').type).to.equal('Bearer');
    });

    it("embeds a Prometheus config that passes promtool check config, with no '$' for the Collector to expand", async () => {
      const receiver = asObject(
        asObject(collector.receivers, 'receivers').prometheus,
        'prometheus',
      );
      const embedded = stringify(receiver.config);
      expect(embedded).not.to.include('$');
      await checkWithTokenFile(embedded, dir);
    });
  });
});

describe('a real Prometheus scraping the preloaded reference service', function () {
  this.timeout(60000);

  const token = randomBytes(24).toString('hex');
  let dir: string | undefined;
  let service: { proc: Proc; url: string } | undefined;
  let prometheus: PrometheusServer | undefined;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-prometheus-'));
    service = await startService(token);
    const target = new URL(service.url).host;

    // As a mounted secret usually is: the token and a newline.
    const tokenFile = path.join(dir, 'scanopy-metrics-token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const configFile = path.join(dir, 'prometheus.yml');
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        {
          job_name: 'scanopy',
          metrics_path: '/metrics',
          authorization: { type: 'Bearer', credentials_file: tokenFile },
          static_configs: [{ targets: [target] }],
        },
        {
          job_name: 'scanopy-wrong',
          metrics_path: '/metrics',
          authorization: { type: 'Bearer', credentials: `wrong-${token}` },
          static_configs: [{ targets: [target] }],
        },
      ],
    };
    await writeFile(configFile, stringify(config));
    prometheus = await startPrometheus(configFile, dir);
  });

  after(async function () {
    await stop(prometheus?.proc);
    await stop(service?.proc);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('reads http_requests_total and scanopy_events_total back through the query API', async () => {
    const { url } = service!;
    for (const name of ['h1', 'h2', 'h3']) {
      const res = await fetch(`${url}/api/v1/hosts`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${DEMO_USER_SESSION}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ name }),
      });
      const text = await res.text();
      expect(res.status, text).to.equal(201);
    }

    const base = prometheus!.url;
    const requests =
      'http_requests_total{job="scanopy",method="POST",path="/api/v1/hosts",status="201",entity_type="user"}';
    const events = 'scanopy_events_total{job="scanopy",entity="Host",operation="created"}';
    let last: Record<string, QueryResult[]> = {};
    const seen = await waitFor(
      'Prometheus to have scraped 3 requests and 3 events',
      async () => {
        last = { [requests]: await query(base, requests), [events]: await query(base, events) };
        const values = Object.values(last).map((r) => (r.length === 1 ? r[0].value[1] : undefined));
        return values.every((v) => v === '3') ? last : undefined;
      },
      () => `last results: ${JSON.stringify(last)}; Prometheus: ${tail(prometheus!.proc.output())}`,
    );

    const [request] = seen[requests];
    expect(request.metric).to.include({
      __name__: 'http_requests_total',
      job: 'scanopy',
      instance: new URL(url).host,
      method: 'POST',
      path: '/api/v1/hosts',
      status: '201',
      entity_type: 'user',
    });
    expect(request.value[1]).to.equal('3');
    const [event] = seen[events];
    expect(event.metric).to.include({ __name__: 'scanopy_events_total', entity: 'Host' });
    expect(event.value[1]).to.equal('3');
  });

  it('shows the job with the token up and the job with a wrong token down with a 401', async () => {
    const base = prometheus!.url;
    let last: Target[] = [];
    const byJob = await waitFor(
      'both targets to have been scraped',
      async () => {
        last = await targets(base);
        const found = new Map(last.map((t) => [t.labels.job, t]));
        const right = found.get('scanopy');
        const wrong = found.get('scanopy-wrong');
        return right?.health === 'up' && wrong?.health === 'down' ? found : undefined;
      },
      () => `last targets: ${JSON.stringify(last)}`,
    );
    expect(last).to.have.length(2);
    const right = byJob.get('scanopy')!;
    const wrong = byJob.get('scanopy-wrong')!;
    expect(right.lastError).to.equal('');
    expect(right.scrapeUrl).to.equal(`${service!.url}/metrics`);
    expect(wrong.scrapeUrl).to.equal(`${service!.url}/metrics`);
    expect(wrong.lastError).to.match(/\b401\b/);

    // `up` agrees with the targets page.
    const up = await query(base, 'up{job=~"scanopy|scanopy-wrong"}');
    const upByJob = Object.fromEntries(up.map((r) => [r.metric.job, r.value[1]]));
    expect(upByJob).to.deep.equal({ scanopy: '1', 'scanopy-wrong': '0' });
  });
});
