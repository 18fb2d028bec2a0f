// Issue 10's scrape goal in real processes: a node:cluster service of 4 workers, each recording
// 10,000 label sets (the same in every worker, as the workers of one service have), scraped over
// HTTP: scanopy-metrics with the preload alone (any worker answers with the cluster's total)
// against prom-client's AggregatorRegistry in the primary. Per scrape: its wall time at the
// client, and the longest event-loop block of the primary and of every worker meanwhile (wall
// delay; main-thread CPU time where Node has process.threadCpuUsage). Rounds interleaved,
// medians reported; the services are not pinned (5 processes each, on a 2-core machine).
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './children';
import {
  CLUSTER_WORKERS,
  CPU_CLOCK,
  type ProcessBlock,
  type ServiceInfo,
  type ServiceVariant,
} from './cluster-service';
import { BENCH_TOKEN, REGISTER_PATH } from './constants';
import type { Sizes } from './options';
import { rotate, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

const VARIANTS: readonly ServiceVariant[] = ['scanopy-metrics', 'prom-client'];
/** Quiet time around each scrape, so that the blocks measured are the scrape's. */
const SETTLE_MS = 100;

interface Round {
  ms: number;
  bytes: number;
  blocks: ProcessBlock[];
}

function get(port: number, token?: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent: false,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let bytes = 0;
        let head = '';
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (head.length < 300) head += c.toString('utf8', 0, 300);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`scrape of port ${port} answered ${res.statusCode}: ${head}`));
          } else resolve({ ms: performance.now() - start, bytes });
        });
      },
    );
    req.on('error', reject);
  });
}

async function scrapeRound(child: Child<ServiceInfo>, variant: ServiceVariant): Promise<Round> {
  await child.call('start');
  await sleep(SETTLE_MS);
  const { ms, bytes } = await get(
    child.info.port,
    variant === 'scanopy-metrics' ? BENCH_TOKEN : undefined,
  );
  await sleep(SETTLE_MS);
  const blocks = await child.call<ProcessBlock[]>('stop');
  return { ms, bytes, blocks };
}

export async function clusterProcesses(
  sizes: Sizes,
  progress: (line: string) => void,
): Promise<Table> {
  const rounds = sizes.quick ? 1 : Math.max(sizes.rounds, 9);
  progress(
    `cluster (processes): ${rounds} rounds of one scrape of a ${CLUSTER_WORKERS}-worker service per variant`,
  );
  const children = new Map<ServiceVariant, Child<ServiceInfo>>();
  const results: Record<ServiceVariant, Round[]> = { 'scanopy-metrics': [], 'prom-client': [] };
  /** The warm-up's rounds: each worker's first answers, reported apart (the longest of them). */
  const warmUp: Record<ServiceVariant, Round[]> = { 'scanopy-metrics': [], 'prom-client': [] };
  /** The machine's 1-minute load average before and after each round: wall blocks depend on it. */
  const loads: number[] = [];
  try {
    for (const variant of VARIANTS) {
      const preload = variant === 'scanopy-metrics';
      children.set(
        variant,
        await Child.start<ServiceInfo>({
          name: `cluster service (${variant})`,
          module: path.join(__dirname, 'cluster-service.js'),
          args: [variant, String(sizes.labelSets)],
          nodeArgs: preload ? ['--require', REGISTER_PATH] : [],
          env: preload ? { ...process.env, SCANOPY_METRICS_TOKEN: BENCH_TOKEN } : process.env,
          readyTimeoutMs: 120_000,
        }),
      );
    }
    // Warm-up: enough scrapes that every worker has answered one (its first runs the scrape path cold).
    for (let i = 0; i < 3 * CLUSTER_WORKERS; i++) {
      for (const variant of VARIANTS) {
        warmUp[variant].push(await scrapeRound(children.get(variant)!, variant));
      }
    }
    loads.push(os.loadavg()[0]);
    for (let round = 0; round < rounds; round++) {
      for (const variant of rotate(VARIANTS, round)) {
        results[variant].push(await scrapeRound(children.get(variant)!, variant));
      }
      loads.push(os.loadavg()[0]);
    }
  } finally {
    for (const child of children.values()) await child.stop();
  }

  const ms = (v: ServiceVariant) => summarize(results[v].map((r) => r.ms));
  /** Per process (primary, worker 1..4): the median over the rounds of its longest block. */
  const perProcess = (v: ServiceVariant, pick: (b: ProcessBlock) => number | undefined) => {
    const names = results[v][0]?.blocks.map((b) => b.process) ?? [];
    return names.map((name) => {
      const values = results[v].flatMap((r) =>
        r.blocks.filter((b) => b.process === name).flatMap((b) => pick(b) ?? []),
      );
      return { name, median: values.length > 0 ? summarize(values).median : undefined };
    });
  };
  const list = (v: ServiceVariant, pick: (b: ProcessBlock) => number | undefined) =>
    perProcess(v, pick)
      .map((p) => `${p.name.replace('worker ', 'w')} ${fixed(p.median)}`)
      .join(', ');
  const wall = (b: ProcessBlock) => b.wallMs;
  const cpu = (b: ProcessBlock) => b.cpuMs;
  const held = (b: ProcessBlock) => b.heldMs;
  const time = ms('scanopy-metrics').median / ms('prom-client').median;
  /** Per process, the longest block over the warm-up's scrapes, which hold each worker's first. */
  const firstScrapes = (v: ServiceVariant) => {
    const names = warmUp[v][0]?.blocks.map((b) => b.process) ?? [];
    return names
      .map((name) => {
        const blocks = warmUp[v].flatMap((r) => r.blocks.filter((b) => b.process === name));
        const most = (pick: (b: ProcessBlock) => number | undefined) =>
          Math.max(...blocks.flatMap((b) => pick(b) ?? []));
        return `${name.replace('worker ', 'w')} ${fixed(most(wall))} (CPU ${fixed(most(cpu))}, held ${fixed(most(held))})`;
      })
      .join(', ');
  };
  /**
   * Per round, the longest block of any process: the answering worker's (a different one each
   * round) is in 1 round of 4 of each worker's own median.
   */
  const anyProcess = (v: ServiceVariant, pick: (b: ProcessBlock) => number | undefined) => {
    const longestPerRound = results[v].flatMap((r) => {
      const values = r.blocks.flatMap((b) => pick(b) ?? []);
      return values.length > 0 ? [Math.max(...values)] : [];
    });
    return longestPerRound.length > 0 ? summarize(longestPerRound) : undefined;
  };
  const longest = anyProcess('scanopy-metrics', wall);
  const longestCpu = anyProcess('scanopy-metrics', cpu);
  const longestHeld = anyProcess('scanopy-metrics', held);
  /** The longest held stretch of any process over the warm-up's scrapes (each worker's first). */
  const warmUpHeld = Math.max(
    ...warmUp['scanopy-metrics'].flatMap((r) => r.blocks.flatMap((b) => b.heldMs ?? [])),
  );
  return {
    title: `cluster scrape, real processes: a ${CLUSTER_WORKERS}-worker node:cluster service × ${count(sizes.labelSets)} label sets per worker (counter + histogram)${sizes.quick ? ' (QUICK: too small for conclusions)' : ''}`,
    notes: [
      'scanopy-metrics: started with the preload alone; a worker answers the scrape with the cluster total.',
      "prom-client: AggregatorRegistry.clusterMetrics()'s steps in the primary (without its fixed 5 s timeout), on a port of its own.",
      `scrape ms: at the client, over HTTP. Block: per process, the median over the rounds of its longest event-loop delay during the scrape (p = primary, w1..w4 = workers); CPU: the longest CPU time between two turns of a 1 ms timer, of the ${CPU_CLOCK} (process.threadCpuUsage on Node 23.9+, a thread's schedstat on older Nodes on Linux; else the whole process's, an upper bound). Held: the longest wall time between two turns of that timer less the main thread's wait for a core meanwhile (Linux schedstat's run delay): the block without the time other processes had the cores, which the wall delay counts (on a machine with a core per process the two are the same).`,
      `warm-up (${3 * CLUSTER_WORKERS} scrapes, not in the table; each worker's first answers run the scrape path's code cold and fill its label caches), the longest block ms per process: scanopy-metrics ${firstScrapes('scanopy-metrics')}; prom-client ${firstScrapes('prom-client')}.`,
      `the services are not pinned; medians of ${rounds} interleaved rounds; load average (1 min) during the rounds ${fixed(Math.min(...loads))}–${fixed(Math.max(...loads))} on ${os.cpus().length} CPUs (wall-clock blocks grow with it, CPU time much less).`,
    ],
    columns: [
      'variant',
      'scrape ms',
      'min–max',
      'bytes',
      'longest block ms per process',
      'CPU ms',
      'held ms',
    ],
    rows: VARIANTS.map((v) => [
      v,
      fixed(ms(v).median),
      `${fixed(ms(v).min)}–${fixed(ms(v).max)}`,
      count(results[v][0]?.bytes),
      list(v, wall),
      list(v, cpu),
      list(v, held),
    ]),
    goals: [
      {
        text: 'scrape time ≤ 1/3 of prom-client',
        measured: ratio(time),
        met: Number.isFinite(time) ? time <= 1 / 3 : undefined,
      },
      {
        text: 'no event-loop block above 20 ms in any process (wall delay)',
        measured: `each round's longest in any process: median ${fixed(longest?.median)} ms, worst ${fixed(longest?.max)} ms (CPU: median ${fixed(longestCpu?.median)}, worst ${fixed(longestCpu?.max)} ms)`,
        met: longest === undefined ? undefined : longest.max <= 20,
      },
      {
        text: "no event-loop block above 20 ms in any process (wall delay less the main thread's wait for a core)",
        measured:
          longestHeld === undefined
            ? 'not measured (no Linux schedstat)'
            : `each round's longest in any process: median ${fixed(longestHeld.median)} ms, worst ${fixed(longestHeld.max)} ms (warm-up, not judged, as the wall delay's: ${fixed(warmUpHeld)} ms; the notes give it per process)`,
        met: longestHeld === undefined ? undefined : longestHeld.max <= 20,
      },
    ],
  };
}
