// A real node:cluster service for the cluster-scrape benchmark: this process is the primary, it
// forks WORKERS workers (separate processes) that each record `labelSets` label sets and listen
// on one shared port. Arguments: <variant> <labelSets>, where
//   variant  scanopy-metrics (the primary was started with the preload, which the workers
//            inherit; a scrape of the shared port is answered by one worker with the cluster's
//            total) | prom-client (prom-client's AggregatorRegistry path in the primary, on a
//            port of its own, the workers' default registries, as prom-client's cluster example)
// The orchestrator calls `start` and `stop` around each scrape: every process of the cluster
// (the primary and each worker) then reports the longest block of its event loop meanwhile, as
// wall-clock delay (monitorEventLoopDelay), as CPU time between two turns of a 1 ms timer (the
// main thread's where Node has process.threadCpuUsage, 23.9+, or Linux's schedstat; else the
// process's), and as the wall time between two turns less the main thread's wait for a core.
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { failStart, serve } from './rpc';

export const CLUSTER_WORKERS = 4;
export const DURATION = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ServiceVariant = 'scanopy-metrics' | 'prom-client';

/** One process's longest block while measured: wall ms, and main-thread CPU ms if Node has it. */
export interface ProcessBlock {
  process: string;
  wallMs: number;
  cpuMs?: number;
  /**
   * The longest stretch between two turns of a 1 ms timer in wall time less the main thread's
   * wait for a core meanwhile (Linux schedstat): what the process itself held its loop for,
   * however many other processes the machine's cores are shared with.
   */
  heldMs?: number;
}

export interface ServiceInfo {
  port: number;
}

/** The main thread's schedstat (its id is the process's): ns on a CPU, ns waiting for one. */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function schedstatNs(): { runNs: number; waitNs: number } | undefined {
  try {
    const [run, wait] = readFileSync(SCHEDSTAT, 'utf8').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run, waitNs: wait } : undefined;
  } catch {
    return undefined;
  }
}
const hasSchedstat = schedstatNs() !== undefined;

/**
 * The main thread's CPU time (process.threadCpuUsage, Node 23.9+); before that, on Linux, the
 * main thread's time on a CPU from its schedstat; else the process's (its GC, compiler and libuv
 * threads too: an upper bound). Preemption by other processes does not inflate these as it does
 * the wall-clock delay.
 */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
export const CPU_CLOCK =
  threadCpuUsage !== undefined
    ? 'main thread'
    : hasSchedstat
      ? "main thread (Linux schedstat, this Node's having no process.threadCpuUsage)"
      : 'process';
function cpuMicros(stat: { runNs: number } | undefined): number {
  if (threadCpuUsage !== undefined) {
    const { user, system } = threadCpuUsage();
    return user + system;
  }
  if (stat !== undefined) return stat.runNs / 1000;
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The longest event-loop block of this process between `start()` and `stop()`. */
class BlockMonitor {
  private delay: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCpu = 0;
  private lastWall = 0;
  private lastWait: number | undefined;
  private maxCpuMicros = 0;
  private maxHeldMs = 0;

  start(): void {
    this.stop();
    this.delay = monitorEventLoopDelay({ resolution: 1 });
    this.delay.enable();
    this.maxCpuMicros = 0;
    this.maxHeldMs = 0;
    const stat = hasSchedstat ? schedstatNs() : undefined;
    this.lastCpu = cpuMicros(stat);
    this.lastWait = stat?.waitNs;
    this.lastWall = performance.now();
    this.timer = setInterval(() => this.tick(), 1);
  }

  private tick(): void {
    const stat = hasSchedstat ? schedstatNs() : undefined;
    const wall = performance.now();
    const cpu = cpuMicros(stat);
    if (cpu - this.lastCpu > this.maxCpuMicros) this.maxCpuMicros = cpu - this.lastCpu;
    if (stat !== undefined && this.lastWait !== undefined) {
      const held = wall - this.lastWall - (stat.waitNs - this.lastWait) / 1e6;
      if (held > this.maxHeldMs) this.maxHeldMs = held;
    }
    this.lastCpu = cpu;
    this.lastWall = wall;
    this.lastWait = stat?.waitNs;
  }

  stop(): { wallMs: number; cpuMs?: number; heldMs?: number } {
    const wallMs = this.delay ? this.delay.max / 1e6 : 0;
    this.delay?.disable();
    this.delay = undefined;
    let cpuMs: number | undefined;
    let heldMs: number | undefined;
    if (this.timer !== undefined) {
      this.tick();
      clearInterval(this.timer);
      this.timer = undefined;
      cpuMs = this.maxCpuMicros / 1000;
      if (hasSchedstat) heldMs = this.maxHeldMs;
    }
    return { wallMs, cpuMs, heldMs };
  }
}

/** The benchmark's own messages between the primary and the workers (never the packages'). */
interface BenchMessage {
  bench: 'start' | 'stop' | 'ready' | 'blocks';
  id?: number;
  block?: { wallMs: number; cpuMs?: number; heldMs?: number };
  port?: number;
}

function isBench(message: unknown): message is BenchMessage {
  return typeof message === 'object' && message !== null && 'bench' in message;
}

async function worker(variant: ServiceVariant, labelSets: number): Promise<void> {
  const monitor = new BlockMonitor();
  let listen: (port: number) => Promise<number>;
  if (variant === 'scanopy-metrics') {
    const { preloaded } = await import('scanopy-metrics');
    const metrics = preloaded();
    if (metrics === undefined) throw new Error('started without the scanopy-metrics preload');
    for (let i = 0; i < labelSets; i++) {
      metrics.pipeline.instruments.recordRequest(
        'GET',
        `/api/v1/r${i}/:id`,
        '200',
        'user',
        0.003 * (i % 7),
      );
    }
    // A Koa app, which the preload gives the metrics route: any worker answers a scrape.
    // require(), as a CommonJS service loads koa: the preload patches what require() loads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Koa = require('koa') as typeof import('koa');
    const app = new Koa();
    app.use((ctx) => (ctx.body = 'ok'));
    listen = (port) =>
      new Promise((resolve) => {
        const server = app.listen(port, '127.0.0.1', () =>
          resolve((server.address() as AddressInfo).port),
        );
      });
  } else {
    const prom = await import('prom-client');
    const counter = new prom.Counter({
      name: 'http_requests_total',
      help: 'Total number of HTTP requests',
      labelNames: ['method', 'path', 'status', 'entity_type'],
    });
    const histogram = new prom.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['method', 'path'],
      buckets: DURATION,
    });
    for (let i = 0; i < labelSets; i++) {
      const path = `/api/v1/r${i}/:id`;
      counter.inc({ method: 'GET', path, status: '200', entity_type: 'user' });
      histogram.observe({ method: 'GET', path }, 0.003 * (i % 7));
    }
    // An AggregatorRegistry made in a worker (as prom-client's example makes one in every process)
    // answers the primary's requests with the worker's default registry.
    new prom.AggregatorRegistry();
    listen = (port) =>
      new Promise((resolve) => {
        const server = http.createServer((_req, res) => res.end('ok'));
        server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
      });
  }
  process.on('message', (message: unknown) => {
    if (!isBench(message)) return;
    if (message.bench === 'start') monitor.start();
    if (message.bench === 'stop') {
      process.send!({
        bench: 'blocks',
        id: message.id,
        block: monitor.stop(),
      } satisfies BenchMessage);
    }
  });
  const port = await listen(0);
  process.send!({ bench: 'ready', port } satisfies BenchMessage);
}

async function primary(variant: ServiceVariant, _labelSets: number): Promise<void> {
  const monitor = new BlockMonitor();
  const workers: Worker[] = [];
  let port = 0;
  for (let i = 0; i < CLUSTER_WORKERS; i++) {
    // Port 0 in every worker: node:cluster hands them all the one port its first listen got.
    const w = cluster.fork();
    workers.push(w);
    port = await new Promise<number>((resolve, reject) => {
      w.on('message', (message: unknown) => {
        if (isBench(message) && message.bench === 'ready') resolve(message.port!);
      });
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before it listened`)));
    });
  }
  let servedPort = port;
  if (variant === 'prom-client') {
    // AggregatorRegistry.clusterMetrics() step by step, as prom-client's lib/cluster.js does it
    // (its request to every worker, their getMetricsAsJSON answers, aggregate() and metrics()),
    // without its fixed 5 s timeout, which 4 × 10,000 label sets exceed on a loaded machine.
    const { AggregatorRegistry } = await import('prom-client');
    let requestId = 0;
    const waiting = new Map<number, { answers: object[]; pending: number; done: () => void }>();
    cluster.on(
      'message',
      (_worker, message: { type?: string; requestId?: number; metrics?: object[] }) => {
        if (message.type !== 'prom-client:getMetricsRes') return;
        const request = waiting.get(message.requestId!);
        if (request === undefined) return;
        for (const registry of message.metrics ?? []) request.answers.push(registry);
        if (--request.pending === 0) request.done();
      },
    );
    const clusterMetrics = async (): Promise<string> => {
      const id = ++requestId;
      const answers: Parameters<typeof AggregatorRegistry.aggregate>[0] = [];
      await new Promise<void>((resolve) => {
        waiting.set(id, { answers, pending: workers.length, done: resolve });
        for (const w of workers) w.send({ type: 'prom-client:getMetricsReq', requestId: id });
      });
      waiting.delete(id);
      return AggregatorRegistry.aggregate(answers).metrics();
    };
    const server = http.createServer((_req, res) => {
      clusterMetrics().then(
        (text) => res.end(text),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
    });
    servedPort = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
  }
  // The orchestrator went away: take the workers along (serve() then exits this process).
  process.on('disconnect', () => {
    for (const w of workers) w.process.kill('SIGKILL');
  });
  let nextId = 0;
  serve(
    {
      start: () => {
        monitor.start();
        for (const w of workers) w.send({ bench: 'start' } satisfies BenchMessage);
        return true;
      },
      stop: async (): Promise<ProcessBlock[]> => {
        const id = ++nextId;
        const answers = workers.map(
          (w, i) =>
            new Promise<ProcessBlock>((resolve) => {
              const onMessage = (message: unknown): void => {
                if (!isBench(message) || message.bench !== 'blocks' || message.id !== id) return;
                w.off('message', onMessage);
                resolve({ process: `worker ${i + 1}`, ...message.block! });
              };
              w.on('message', onMessage);
              w.send({ bench: 'stop', id } satisfies BenchMessage);
            }),
        );
        const own = { process: 'primary', ...monitor.stop() };
        return [own, ...(await Promise.all(answers))];
      },
    },
    { port: servedPort } satisfies ServiceInfo,
  );
}

// Run, not imported (the orchestrator imports the types and constants above).
if (require.main === module) {
  const [variant = 'scanopy-metrics', labelSets = '10000'] = process.argv.slice(2);
  (cluster.isPrimary ? primary : worker)(variant as ServiceVariant, Number(labelSets)).catch(
    failStart,
  );
}
