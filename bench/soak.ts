// `npm run soak`: minutes of mixed traffic against the preloaded reference service, scraped every
// second, to show that its memory levels off once the label sets exist (issue 5). The service runs
// in a child (`node --expose-gc --require dist/preload/register.js --require soak-memory.js
// build/reference-service/server.js`) that reports its memory over IPC; this process generates
// the traffic (CRUD as every kind of caller, random URLs and methods, wrong credentials, thrown
// errors, streamed bodies; the service publishes an event per write and per rejected credential)
// and scrapes. It prints RSS and heap at the start (after a warm-up) and at the end, samples in
// between, and whether memory levelled off; it also checks that the service counted every request.
//
//   npm run soak                 3 minutes (after a warm-up of 15 s)
//   npm run soak -- --minutes=N  N minutes
//   npm run soak -- --quick      about 20 s (CI smoke run: too short to judge memory)
//
// Bounded: it stops by itself, kills the service when it ends however it ends, and gives up
// (killing the service) if a run overruns its planned time by two minutes. Exit code 1 when
// something failed (the service died, a scrape failed, a request errored or was answered with a
// status its kind of request never gets, the counts are off); memory not levelling off is a
// result, printed as such.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { DEMO_API_KEY, DEMO_DAEMON_KEY, DEMO_USER_SESSION } from '../reference-service/auth';
import { canPin, pinSelf } from './children';
import {
  BENCH_TOKEN,
  LOAD_CPU,
  METRICS_PATH,
  REGISTER_PATH,
  REPO_ROOT,
  SERVER_CPU,
} from './constants';
import type { MemorySample } from './soak-memory';
import { fixed, renderTable, verdict, type Table } from './table';

const MB = 1024 * 1024;
const SERVER = path.join(REPO_ROOT, 'build', 'reference-service', 'server.js');
const MEMORY_HELPER = path.join(__dirname, 'soak-memory.js');
/** Memory may grow at most this much over the last third of the run to count as levelled off. */
const LEVEL_GROWTH = 0.1;
const CONNECTIONS = 16;

interface Plan {
  quick: boolean;
  warmupSeconds: number;
  seconds: number;
  sampleEverySeconds: number;
}

const USAGE = `usage: npm run soak [-- --quick | --minutes=N]
  --minutes=N   measure for N minutes (default 3) after a warm-up of 15 s
  --quick       about 20 s in all (a smoke run: too short to judge memory)`;

function parseArgs(argv: readonly string[]): Plan | 'help' {
  let minutes = 3;
  let quick = false;
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2);
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--quick') quick = true;
    else if (flag === '--minutes') {
      minutes = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || minutes <= 0 || minutes > 120) {
        throw new Error(`--minutes expects a number of minutes from 0 to 120, got "${value}"`);
      }
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (quick) return { quick, warmupSeconds: 4, seconds: 16, sampleEverySeconds: 4 };
  const seconds = Math.round(minutes * 60);
  return {
    quick,
    warmupSeconds: 15,
    seconds,
    sampleEverySeconds: Math.min(30, Math.max(1, Math.floor(seconds / 6))),
  };
}

// ---------------------------------------------------------------------------------------------
// The service

interface Service {
  url: string;
  proc: ChildProcess;
  memory(): Promise<MemorySample>;
  stderr(): string;
  exited: Promise<string>;
  stop(): Promise<void>;
}

let running: ChildProcess | undefined;

function startService(): Promise<Service> {
  const pinned = canPin();
  const nodeArgs = ['--expose-gc', '--require', REGISTER_PATH, '--require', MEMORY_HELPER];
  const proc = fork(SERVER, [], {
    execPath: pinned ? 'taskset' : process.execPath,
    execArgv: pinned ? ['-c', String(SERVER_CPU), process.execPath, ...nodeArgs] : nodeArgs,
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !/^(SCANOPY_|OTEL_)/.test(name)),
      ),
      SCANOPY_METRICS_TOKEN: BENCH_TOKEN,
      SCANOPY_SERVER_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<string>((resolve) =>
    proc.once('exit', (code, signal) => {
      running = undefined;
      resolve(`the service exited (code ${code}, signal ${signal})`);
    }),
  );
  let nextId = 1;
  const waiting = new Map<number, (sample: MemorySample) => void>();
  proc.on('message', (message: unknown) => {
    const sample = message as MemorySample;
    waiting.get(sample.id)?.(sample);
    waiting.delete(sample.id);
  });
  const memory = (): Promise<MemorySample> => {
    const id = nextId++;
    const answered = new Promise<MemorySample>((resolve) => waiting.set(id, resolve));
    proc.send({ type: 'memory', id });
    return Promise.race([
      answered,
      exited.then((why) => Promise.reject(new Error(why))),
      sleep(30_000, undefined, { ref: false }).then(() =>
        Promise.reject(new Error('the service did not report its memory')),
      ),
    ]);
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the service did not start within 30 s')),
      30_000,
    );
    void exited.then((why) => {
      clearTimeout(timer);
      reject(new Error(`${why} while starting; stderr:\n${stderr}`));
    });
    proc.stdout?.on('data', () => {
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${port}`,
        proc,
        memory,
        stderr: () => stderr,
        exited,
        stop,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The traffic

interface Answer {
  status: number;
  body: string;
}

function request(
  url: string,
  agent: http.Agent,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path: pathAndQuery, method, headers, agent, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error('request timed out')));
    req.once('error', reject);
    req.end(body);
  });
}

const RESOURCES = ['hosts', 'networks', 'subnets', 'services'] as const;
const CALLERS: Record<string, string>[] = [
  { Authorization: `Bearer ${DEMO_USER_SESSION}` },
  { 'X-Api-Key': DEMO_API_KEY },
  { 'X-Daemon-Key': DEMO_DAEMON_KEY },
  {},
];
const WRONG: Record<string, string>[] = [
  { Authorization: 'Bearer expired-session' },
  { Authorization: 'Basic c29tZTpvbmU=' },
  { 'X-Api-Key': 'revoked-key' },
  { 'X-Daemon-Key': 'unknown-daemon' },
];
const ODD_METHODS = ['PATCH', 'OPTIONS', 'PROPFIND', 'PURGE', 'SEARCH'];
/** Records kept per resource: creates beyond it delete instead, so the store stays bounded. */
const POOL = 100;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
const randomText = (): string =>
  Math.random()
    .toString(36)
    .slice(2, 2 + Math.ceil(Math.random() * 10));

interface Traffic {
  /** Answers received, by kind of request and status. */
  answers: Map<string, number>;
  /** Requests that failed at the HTTP level (no answer): how many, and the first 20. */
  errorCount: number;
  errors: string[];
  /** Answers with a status this kind of request never gets: how many, and the first 20. */
  unexpectedCount: number;
  unexpected: string[];
  completed: number;
}

/** One action of the mix: its weight, and what it sends; returns the statuses it may get. */
type Action = (send: Sender) => Promise<void>;
type Sender = (
  kind: string,
  allowed: readonly number[],
  method: string,
  pathAndQuery: string,
  headers?: Record<string, string>,
  body?: string,
) => Promise<Answer>;

function actions(pools: Record<string, string[]>): [number, Action][] {
  const json = { 'Content-Type': 'application/json' };
  return [
    [
      25,
      async (send) => {
        const resource = pick(RESOURCES);
        const ids = pools[resource];
        if (ids.length === 0) return;
        await send('read', [200, 404], 'GET', `/api/v1/${resource}/${pick(ids)}`, pick(CALLERS));
      },
    ],
    [
      12,
      async (send) => {
        const resource = pick(RESOURCES);
        const ids = pools[resource];
        if (ids.length >= POOL) {
          const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0];
          await send('delete', [200, 404], 'DELETE', `/api/v1/${resource}/${id}`, pick(CALLERS));
          return;
        }
        const answer = await send(
          'create',
          [201],
          'POST',
          `/api/v1/${resource}`,
          { ...pick(CALLERS), ...json },
          JSON.stringify({ name: `soak-${randomText()}` }),
        );
        if (answer.status === 201)
          ids.push((JSON.parse(answer.body) as { data: { id: string } }).data.id);
      },
    ],
    [
      8,
      async (send) => {
        const resource = pick(RESOURCES);
        const ids = pools[resource];
        if (ids.length === 0) return;
        await send(
          'update',
          [200, 404],
          'PUT',
          `/api/v1/${resource}/${pick(ids)}`,
          { ...pick(CALLERS), ...json },
          JSON.stringify({ name: `renamed-${randomText()}` }),
        );
      },
    ],
    [
      4,
      async (send) => {
        const resource = pick(RESOURCES);
        const ids = pools[resource];
        if (ids.length < POOL / 2) return;
        const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0];
        await send('delete', [200, 404], 'DELETE', `/api/v1/${resource}/${id}`, pick(CALLERS));
      },
    ],
    [8, (send) => send('list', [200], 'GET', `/api/v1/${pick(RESOURCES)}`, pick(CALLERS)).then()],
    [5, (send) => send('health', [200], 'GET', '/api/health').then()],
    [
      12,
      (send) => {
        const url = pick([
          () => `/${randomText()}/${randomText()}?q=${randomText()}`,
          () => `/api/v1/${randomText()}`,
          () => `/api/v1/${pick(RESOURCES)}/${randomUUID()}`,
          () => `/api/v1/${pick(RESOURCES)}/${randomText()}/${randomText()}`,
          () => `/metrics/${randomText()}`,
        ])();
        return send('random URL', [401, 404], 'GET', url, pick(CALLERS)).then();
      },
    ],
    [
      4,
      (send) =>
        send(
          'odd method',
          [200, 401, 404, 405, 501],
          pick(ODD_METHODS),
          `/api/v1/${pick(RESOURCES)}`,
        ).then(),
    ],
    [
      10,
      (send) =>
        send('wrong credential', [401], 'GET', `/api/v1/${pick(RESOURCES)}`, pick(WRONG)).then(),
    ],
    [
      3,
      (send) =>
        send(
          'invalid body',
          [400],
          'POST',
          `/api/v1/${pick(RESOURCES)}`,
          { ...pick(CALLERS), ...json },
          pick(['{not json', '[]', '{"name":""}', '{"bogus":1}']),
        ).then(),
    ],
    [1, (send) => send('thrown error', [500], 'GET', '/api/v1/debug/error').then()],
    [2, (send) => send('stream', [200], 'GET', '/api/v1/debug/stream').then()],
    [
      2,
      (send) =>
        send('wrong metrics token', [401, 429], 'GET', METRICS_PATH, {
          Authorization: 'Bearer not-the-token',
        }).then(),
    ],
  ];
}

/** Runs CONNECTIONS loops of the mix until `stop()` says so. */
function generate(url: string, stopped: () => boolean): { traffic: Traffic; done: Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const traffic: Traffic = {
    answers: new Map(),
    errorCount: 0,
    errors: [],
    unexpectedCount: 0,
    unexpected: [],
    completed: 0,
  };
  const pools: Record<string, string[]> = { hosts: [], networks: [], subnets: [], services: [] };
  const mix = actions(pools);
  const total = mix.reduce((sum, [weight]) => sum + weight, 0);
  const send: Sender = async (kind, allowed, method, pathAndQuery, headers, body) => {
    try {
      const answer = await request(url, agent, method, pathAndQuery, headers, body);
      traffic.completed++;
      const key = `${kind} ${answer.status}`;
      traffic.answers.set(key, (traffic.answers.get(key) ?? 0) + 1);
      if (!allowed.includes(answer.status) && traffic.unexpectedCount++ < 20) {
        traffic.unexpected.push(
          `${method} ${pathAndQuery} → ${answer.status} ${answer.body.slice(0, 100)}`,
        );
      }
      return answer;
    } catch (error) {
      traffic.errorCount++;
      if (traffic.errors.length < 20)
        traffic.errors.push(`${method} ${pathAndQuery}: ${(error as Error).message}`);
      return { status: 0, body: '' };
    }
  };
  const loop = async (): Promise<void> => {
    while (!stopped()) {
      let r = Math.random() * total;
      for (const [weight, action] of mix) {
        r -= weight;
        if (r < 0) {
          await action(send);
          break;
        }
      }
    }
  };
  const done = Promise.all(Array.from({ length: CONNECTIONS }, loop)).then(() => agent.destroy());
  return { traffic, done };
}

// ---------------------------------------------------------------------------------------------
// Scrapes

interface Scrapes {
  ok: number;
  failed: string[];
  maxBytes: number;
  lastText: string;
}

function seriesCount(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).length;
}

/**
 * Sum of http_requests_total but the scrapes' own series (the metrics route answered 200: the
 * traffic's wrong tokens on that route get 401 or 429).
 */
function requestsCounted(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('http_requests_total{')) continue;
    if (line.includes(`path="${METRICS_PATH}",status="200"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(url: string, agent: http.Agent): Promise<Answer> {
  return request(url, agent, 'GET', METRICS_PATH, { Authorization: `Bearer ${BENCH_TOKEN}` });
}

// ---------------------------------------------------------------------------------------------

interface Row {
  at: string;
  seconds: number;
  sample: MemorySample;
  requests: number;
  series: number;
}

async function main(): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cpus = os.availableParallelism();
  const pinned = cpus >= 2 && canPin() && pinSelf(LOAD_CPU);
  const planned = plan.warmupSeconds + plan.seconds;
  // Whatever happens, the run ends: two minutes past its plan, the service is killed.
  const deadline = setTimeout(
    () => {
      process.stderr.write(`soak: still running ${planned + 120} s after its start; giving up\n`);
      running?.kill('SIGKILL');
      process.exit(1);
    },
    (planned + 120) * 1000,
  );
  deadline.unref();

  process.stdout.write(
    [
      `scanopy-metrics soak — ${plan.quick ? 'QUICK (smoke run: too short to judge memory)' : `${fixed(plan.seconds / 60, 1)} min`}`,
      `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus} CPUs, ${new Date().toISOString()}`,
      pinned
        ? `cores: the service pinned to CPU ${SERVER_CPU}; traffic, scrapes and this process to CPU ${LOAD_CPU} (taskset)`
        : 'cores: NOT pinned',
      `traffic: ${CONNECTIONS} keep-alive connections of mixed requests; a scrape every second;` +
        ` warm-up ${plan.warmupSeconds} s, then ${plan.seconds} s measured, memory sampled every ${plan.sampleEverySeconds} s`,
      '',
    ].join('\n') + '\n',
  );

  const service = await startService();
  const failures: string[] = [];
  let stopping = false;
  void service.exited.then((why) => {
    if (!stopping) failures.push(why);
  });
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;

  const { traffic, done } = generate(service.url, () => stopping || failures.length > 0);
  const scrapeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const scrapes: Scrapes = { ok: 0, failed: [], maxBytes: 0, lastText: '' };
  const scraper = (async () => {
    while (!stopping && failures.length === 0) {
      const next = sleep(1000);
      try {
        const answer = await scrape(service.url, scrapeAgent);
        if (answer.status === 200) {
          scrapes.ok++;
          scrapes.maxBytes = Math.max(scrapes.maxBytes, Buffer.byteLength(answer.body));
          scrapes.lastText = answer.body;
        } else scrapes.failed.push(`${answer.status} ${answer.body.slice(0, 100)}`);
      } catch (error) {
        scrapes.failed.push((error as Error).message);
      }
      await next;
    }
  })();

  const rows: Row[] = [];
  const record = async (at: string): Promise<void> => {
    const sample = await service.memory();
    rows.push({
      at,
      seconds: elapsed(),
      sample,
      requests: traffic.completed,
      series: seriesCount(scrapes.lastText, 'http_requests_total'),
    });
    const last = rows[rows.length - 1];
    process.stderr.write(
      `… ${at} ${fixed(last.seconds, 0)} s: RSS ${fixed(sample.rss / MB, 1)} MB, heap ${fixed(sample.heapUsed / MB, 1)} MB, ${last.requests} requests\n`,
    );
  };

  try {
    await sleep(plan.warmupSeconds * 1000);
    await record('start');
    const measuredFrom = elapsed();
    for (let next = plan.sampleEverySeconds; next < plan.seconds; next += plan.sampleEverySeconds) {
      const wait = measuredFrom + next - elapsed();
      if (wait > 0) await sleep(wait * 1000);
      if (failures.length > 0) break;
      await record('sample');
    }
    const rest = measuredFrom + plan.seconds - elapsed();
    if (rest > 0 && failures.length === 0) await sleep(rest * 1000);
    if (failures.length === 0) await record('end');
  } catch (error) {
    failures.push((error as Error).message);
  }
  stopping = true;
  await done;
  await scraper;

  // Every request answered must be counted, once the service has recorded the last ones.
  let counted = -1;
  if (failures.length === 0) {
    for (let i = 0; i < 50; i++) {
      const answer = await scrape(service.url, scrapeAgent);
      counted = requestsCounted(answer.body);
      scrapes.lastText = answer.body;
      if (counted >= traffic.completed) break;
      await sleep(100);
    }
  }
  scrapeAgent.destroy();
  const boomLogged = service.stderr().match(/Error: boom/g)?.length ?? 0;
  // Koa's default error handler writes each thrown error indented by two spaces.
  const otherStderr = service
    .stderr()
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^ {2}/.test(line));
  stopping = true;
  await service.stop();

  const table: Table = {
    title: 'memory of the preloaded reference service (after gc)',
    notes: [
      'RSS and heapUsed as process.memoryUsage() reports them right after a full gc() in the service;',
      `"start" is after the warm-up, when every label set of the mix exists. MB = 2^20 bytes.`,
    ],
    columns: [
      'sample',
      'at (s)',
      'RSS MB',
      'heap used MB',
      'heap total MB',
      'external MB',
      'requests',
      'series',
    ],
    rows: rows.map((row) => [
      row.at,
      fixed(row.seconds, 0),
      fixed(row.sample.rss / MB, 1),
      fixed(row.sample.heapUsed / MB, 2),
      fixed(row.sample.heapTotal / MB, 1),
      fixed(row.sample.external / MB, 2),
      row.requests.toLocaleString('en-US'),
      String(row.series),
    ]),
    goals: [],
  };
  const start = rows[0];
  const end = rows[rows.length - 1];
  if (start !== undefined && end !== undefined && end !== start) {
    // The sample nearest two thirds of the measured time: growth after it is the last third's.
    const measured = end.seconds - start.seconds;
    const third = rows.reduce((best, row) =>
      Math.abs(row.seconds - start.seconds - (2 * measured) / 3) <
      Math.abs(best.seconds - start.seconds - (2 * measured) / 3)
        ? row
        : best,
    );
    for (const [label, value] of [
      ['RSS', (r: Row) => r.sample.rss],
      ['heap used', (r: Row) => r.sample.heapUsed],
    ] as const) {
      const growth = value(end) / value(third) - 1;
      table.goals.push({
        text: `${label} grows < ${LEVEL_GROWTH * 100}% over the last third (${fixed(third.seconds, 0)} s → ${fixed(end.seconds, 0)} s)`,
        measured: `${growth >= 0 ? '+' : ''}${fixed(growth * 100, 1)}% (${fixed(value(third) / MB, 2)} → ${fixed(value(end) / MB, 2)} MB; start → end ${fixed(value(start) / MB, 2)} → ${fixed(value(end) / MB, 2)} MB)`,
        met: plan.quick ? undefined : growth < LEVEL_GROWTH,
      });
    }
  }
  process.stdout.write(renderTable(table) + '\n');

  const seconds = elapsed();
  const byKind = [...traffic.answers.entries()].sort(([a], [b]) => a.localeCompare(b));
  process.stdout.write(
    [
      `requests: ${traffic.completed.toLocaleString('en-US')} answered in ${fixed(seconds, 0)} s (${fixed(traffic.completed / seconds, 0)}/s), ${traffic.errorCount} without an answer, ${traffic.unexpectedCount} with an unexpected status`,
      `  ${byKind.map(([key, n]) => `${key}: ${n}`).join(', ')}`,
      `counted by the service (http_requests_total, scrapes excluded): ${counted.toLocaleString('en-US')}` +
        ` → ${counted === traffic.completed ? 'exact' : 'MISMATCH'}`,
      `scrapes: ${scrapes.ok} answered 200, ${scrapes.failed.length} failed; largest ${fixed(scrapes.maxBytes / 1024, 1)} KiB;` +
        ` series at the end: ${seriesCount(scrapes.lastText, 'http_requests_total')} http_requests_total,` +
        ` ${seriesCount(scrapes.lastText, 'http_request_duration_seconds_count')} histograms,` +
        ` ${seriesCount(scrapes.lastText, 'scanopy_events_total')} scanopy_events_total`,
      `service stderr: ${boomLogged} thrown errors logged by Koa (of ${traffic.answers.get('thrown error 500') ?? 0} thrown), ${otherStderr.length} other lines`,
      '',
    ].join('\n') + '\n',
  );

  if (traffic.errorCount > 0)
    failures.push(`${traffic.errorCount} requests without an answer: ${traffic.errors.join('; ')}`);
  if (traffic.unexpectedCount > 0)
    failures.push(
      `${traffic.unexpectedCount} unexpected statuses: ${traffic.unexpected.join('; ')}`,
    );
  if (scrapes.failed.length > 0)
    failures.push(`failed scrapes: ${scrapes.failed.slice(0, 5).join('; ')}`);
  if (counted !== traffic.completed)
    failures.push(`counted ${counted} requests, ${traffic.completed} were answered`);
  if (otherStderr.length > 0)
    failures.push(`service stderr: ${otherStderr.slice(0, 10).join(' | ')}`);
  const levelled = table.goals.length > 0 && table.goals.every((g) => g.met === true);
  process.stdout.write(
    `memory: ${plan.quick ? 'not judged (quick run)' : levelled ? 'levelled off' : `did NOT level off (${table.goals.map((g) => verdict(g.met)).join(', ')})`}\n`,
  );
  for (const failure of failures) process.stdout.write(`FAILED: ${failure}\n`);
  clearTimeout(deadline);
  return failures.length > 0 ? 1 : 0;
}

process.on('exit', () => running?.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    running?.kill('SIGKILL');
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    running?.kill('SIGKILL');
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
