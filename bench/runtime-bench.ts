// What runtime metrics cost, one child per library so that nothing of one runs in another's figures:
// OTel's runtime-node instrumentation with instrumentation-host-metrics' process groups (what the
// package enables for OTEL_NODE_ENABLED_INSTRUMENTATIONS=runtime-node), prom-client's
// collectDefaultMetrics (the other well-kept choice), and neither. Each child measures, in turn:
// CPU while idle (what the event-loop delay sampling costs when nothing happens), a fixed
// allocation-heavy workload (what the GC observers cost per collection of garbage), and the time
// of one collection of the runtime metrics.
import { createMetrics } from 'scanopy-metrics';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startRuntimeMetrics } from '../src/runtime/runtime-metrics';
import { gc } from './rpc';

export const RUNTIME_VARIANTS = [
  'none',
  'otel runtime-node + process',
  'prom-client defaults',
] as const;
export type RuntimeVariant = (typeof RUNTIME_VARIANTS)[number];

export interface RuntimeRequest {
  variant: RuntimeVariant;
  /** Wall time of the idle measurement. */
  idleMs: number;
  /** Rounds of the allocation workload, and collections timed. */
  workRounds: number;
  collections: number;
}

export interface RuntimeResult {
  /** CPU µs the process used per second of idling. */
  idleMicrosPerSecond: number;
  /** ms of CPU per round of the allocation workload (medians over rounds). */
  workMs: number;
  /** ms per collection (median), and the lines of one exposition of the runtime metrics. */
  collectMs: number;
  lines: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
}

/** Garbage in short-lived objects, with turns of the event loop between batches. */
async function allocationWork(): Promise<void> {
  let keep: unknown[] = [];
  for (let batch = 0; batch < 50; batch++) {
    for (let i = 0; i < 20_000; i++) keep.push({ i, s: `item-${i}`, a: [i, i + 1] });
    keep = [];
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function runRuntime(request: RuntimeRequest): Promise<RuntimeResult> {
  let collect: () => Promise<string> = () => Promise.resolve('');
  let stop: () => void = () => undefined;
  if (request.variant === 'otel runtime-node + process') {
    const metrics = createMetrics({});
    const stopRuntime = startRuntimeMetrics(metrics.pipeline.meterProvider);
    collect = () => metrics.scrape();
    stop = () => {
      stopRuntime();
      void metrics.shutdown();
    };
  } else if (request.variant === 'prom-client defaults') {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    collect = () => registry.metrics();
    stop = () => registry.clear();
  }
  try {
    await collect();
    // Idle: nothing but the libraries' own sampling runs.
    gc();
    await sleep(100);
    const cpu = process.cpuUsage();
    const idleStart = performance.now();
    await sleep(request.idleMs);
    const used = process.cpuUsage(cpu);
    const idleSeconds = (performance.now() - idleStart) / 1000;

    const work: number[] = [];
    for (let round = 0; round <= request.workRounds; round++) {
      gc();
      const before = process.cpuUsage();
      await allocationWork();
      const spent = process.cpuUsage(before);
      if (round > 0) work.push((spent.user + spent.system) / 1000);
    }

    const times: number[] = [];
    let text = '';
    for (let i = 0; i <= request.collections; i++) {
      const start = performance.now();
      text = await collect();
      if (i > 0) times.push(performance.now() - start);
    }
    const ownLines = text
      .split('\n')
      .filter(
        (line) => line !== '' && !/^(# (HELP|TYPE|UNIT) )?(http_|scanopy_|target_info)/.test(line),
      );
    return {
      idleMicrosPerSecond: (used.user + used.system) / idleSeconds,
      workMs: median(work),
      collectMs: median(times),
      lines: request.variant === 'none' ? 0 : ownLines.length,
    };
  } finally {
    stop();
  }
}
