// `npm run demo`: the reference service preloaded with scanopy-metrics, a real Prometheus that
// scrapes it with the shipped recording and alert rules loaded, and a small traffic generator;
// prints where to look, and stops everything on Ctrl-C. Loopback only.
//
// Ports: the service on SCANOPY_SERVER_PORT (default 60072; 0 for any free one), Prometheus on
// DEMO_PROMETHEUS_PORT (default 9090; 0 for any free one).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import {
  REPO,
  RULE_FILES,
  panelTargets,
  readDashboard,
  substitute,
  type Dashboard,
} from './dashboard';
import { startPrometheus, type PrometheusServer } from './prometheus';
import { generateTraffic } from './traffic';

const SERVER = path.join(REPO, 'build', 'reference-service', 'server.js');
// The preload as users name it (`--require scanopy-metrics/register`), resolved through the
// package's own exports.
const REGISTER = require.resolve('scanopy-metrics/register');
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
/** The panels whose queries the demo links to. */
const KEY_PANELS = [
  'Request rate by status class',
  'Error ratio (5xx)',
  'Latency p50, p95, p99',
  'Callers by kind',
  'Events by entity and operation',
  'Scrapes by status code',
];

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) {
    throw new Error(`${name} must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return value;
}

interface Service {
  url: string;
  process: ChildProcess;
  exited: Promise<void>;
}

/**
 * The service's stderr, less Koa's report of the traffic's deliberate 500 (`Error: boom` and its
 * stack, a block ended by an empty line): everything else, the package's diagnostics included,
 * is shown.
 */
function forwardStderr(child: ChildProcess): void {
  let pending = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
      if (block.trim().startsWith('Error: boom')) continue;
      process.stderr.write(block);
    }
    // A line that is not part of a Koa error report is shown at once.
    if (!pending.trimStart().startsWith('Error: boom') && pending.endsWith('\n')) {
      process.stderr.write(pending);
      pending = '';
    }
  });
}

/** The reference service, preloaded, on loopback; resolves with its address. */
function startService(token: string, servicePort: number, cwd: string): Promise<Service> {
  // The caller's own settings pass through; address and token are the demo's.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SCANOPY_METRICS_TOKEN_FILE;
  // Runtime metrics fill the dashboard's runtime panels, unless the caller chose otherwise.
  env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= 'runtime-node';
  Object.assign(env, {
    SCANOPY_SERVER_HOST: '127.0.0.1',
    SCANOPY_SERVER_PORT: String(servicePort),
    SCANOPY_METRICS_TOKEN: token,
  });
  const child = spawn(process.execPath, ['--require', REGISTER, SERVER], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  forwardStderr(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`the reference service exited (code ${code}, signal ${signal})`)),
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = LISTENING.exec(out);
      if (match !== null) {
        child.removeAllListeners('exit');
        resolve({ url: match[1], process: child, exited });
      }
    });
  });
}

/** Prometheus's graph page for some queries, over the last 15 minutes. */
function graphLink(base: string, exprs: string[]): string {
  const params = new URLSearchParams();
  exprs.forEach((expr, i) => {
    params.set(`g${i}.expr`, expr);
    params.set(`g${i}.tab`, '0');
    params.set(`g${i}.range_input`, '15m');
  });
  return `${base}/graph?${params.toString()}`;
}

function keyQueries(dashboard: Dashboard): { title: string; exprs: string[] }[] {
  const targets = panelTargets(dashboard);
  return KEY_PANELS.map((title) => ({
    title,
    exprs: targets
      .filter(({ panel }) => panel.title === title)
      .map(({ target }) => substitute(dashboard, target.expr, {}, '1m')),
  }));
}

async function main(): Promise<void> {
  const servicePort = port('SCANOPY_SERVER_PORT', 60072);
  const prometheusPort = port('DEMO_PROMETHEUS_PORT', 9090);
  const metricsPath = process.env.SCANOPY_METRICS_PATH || '/metrics';
  const dashboard = readDashboard();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scanopy-metrics-demo-'));
  const token = randomBytes(16).toString('hex');
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });

  const traffic = new AbortController();
  let service: Service | undefined;
  let prometheus: PrometheusServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      traffic.abort();
      const running: Promise<void>[] = [];
      if (prometheus !== undefined) running.push(prometheus.stop());
      if (service !== undefined) {
        const { process: child, exited } = service;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        running.push(exited.then(() => clearTimeout(timer)));
      }
      await Promise.all(running);
      rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C reaches the whole process group; SIGTERM only this process. Either way the children
  // are stopped and waited for before the demo exits.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping the traffic, Prometheus and the service`);
      void stop().then(() => process.exit(0));
    });
  }

  try {
    service = await startService(token, servicePort, dir);
    const target = new URL(service.url).host;
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(
      configFile,
      stringify({
        global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s' },
        rule_files: RULE_FILES,
        scrape_configs: [
          {
            job_name: 'scanopy',
            metrics_path: metricsPath,
            authorization: { type: 'Bearer', credentials_file: tokenFile },
            static_configs: [{ targets: [target] }],
          },
        ],
      }),
    );
    prometheus = await startPrometheus({ configFile, dir, port: prometheusPort });
  } catch (error) {
    await stop();
    throw error;
  }

  const base = prometheus.url;
  const lines = [
    '',
    'scanopy-metrics demo',
    `  service (pid ${service.process.pid}):    ${service.url}`,
    `  metrics:                ${service.url}${metricsPath}  (Authorization: Bearer ${token})`,
    `  Prometheus (pid ${prometheus.process.pid}): ${base}`,
    `  targets:                ${base}/targets`,
    `  rules:                  ${base}/rules`,
    `  alerts:                 ${base}/alerts`,
    '',
    "The dashboard's key queries (deploy/grafana/scanopy-metrics.json), live in Prometheus:",
    ...keyQueries(dashboard).flatMap(({ title, exprs }) => [
      `  ${title}:`,
      `    ${graphLink(base, exprs)}`,
    ]),
    '',
    `  curl -H 'Authorization: Bearer ${token}' ${service.url}${metricsPath}`,
    '',
    'Traffic is running (a few rounds of requests a second). Ctrl-C stops everything.',
  ];
  console.log(lines.join('\n'));

  void service.exited.then(() => {
    if (stopping === undefined) {
      console.error('the reference service exited; stopping');
      void stop().then(() => process.exit(1));
    }
  });
  void prometheus.exited.then(() => {
    if (stopping === undefined) {
      console.error(`Prometheus exited:\n${prometheus?.output().slice(-2000)}`);
      void stop().then(() => process.exit(1));
    }
  });
  const stats = await generateTraffic({
    baseUrl: service.url,
    signal: traffic.signal,
    metricsPath,
  });
  if (!traffic.signal.aborted) {
    console.log(`traffic done (${stats.requests} requests); Ctrl-C stops the demo`);
  }
}

main().catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
