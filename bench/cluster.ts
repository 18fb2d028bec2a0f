// The cluster-scrape benchmark (cluster-suite.ts runs each variant in a child of its own, pinned to
// the server core, rounds interleaved): the cost of one cluster scrape of 4 workers with 10,000 label sets
// each (the same label sets in every worker, as the workers of one service have), in process:
// scanopy-metrics' path (each worker's snapshot, the primary's sum, the answering worker's text)
// against prom-client's AggregatorRegistry path (each worker's getMetricsAsJSON, the primary's
// aggregate() and metrics()). The IPC channel's JSON encoding is included on both sides (Node's
// IPC channel serializes messages as JSON); the socket transfer itself is the same for both and
// left out. Reported: the whole scrape's time, and the longest stretch any one process spends
// without yielding (its event-loop block), medians of interleaved rounds.
import {
  Counter as PromCounter,
  Histogram as PromHistogram,
  AggregatorRegistry,
  Registry,
} from 'prom-client';
import { Instruments } from '../src/collection/instruments';
import { Slicer, SLICE_MS } from '../src/cluster/slices';
import { keptPart, SnapshotReader, type Snapshot } from '../src/cluster/snapshot';
import { Totals } from '../src/cluster/totals';
import { TotalView } from '../src/cluster/view';
import { PrometheusTextSerializer } from '../src/exposition/serializer';
import { emptyResource } from '@opentelemetry/resources';

export const WORKERS = 4;
const DURATION = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Result = ClusterRound;

/** Stretches of one process without a turn of its event loop, in wall and CPU milliseconds. */
interface Blocks {
  wall: number[];
  cpu: number[];
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Times `fn`, a synchronous stretch of one process; returns its result. */
function timed<T>(blocks: Blocks, fn: () => T): T {
  const start = performance.now();
  const cpu = cpuMs();
  const value = fn();
  blocks.wall.push(performance.now() - start);
  blocks.cpu.push(cpuMs() - cpu);
  return value;
}

async function timedAsync<T>(blocks: Blocks, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const cpu = cpuMs();
  const value = await fn();
  blocks.wall.push(performance.now() - start);
  blocks.cpu.push(cpuMs() - cpu);
  return value;
}

function sliced(blocks: Blocks, slicer: Slicer): void {
  slicer.note();
  blocks.wall.push(slicer.longest);
  blocks.cpu.push(slicer.longestCpu);
}

function scanopyWorkers(labelSets: number): Instruments[] {
  return Array.from({ length: WORKERS }, () => {
    const instruments = new Instruments({ cardinalityLimit: labelSets + 10 });
    for (let i = 0; i < labelSets; i++) {
      instruments.recordRequest('GET', `/api/v1/r${i}/:id`, '200', 'user', 0.003 * (i % 7));
    }
    return instruments;
  });
}

async function scanopyScrape(workers: Instruments[], view: TotalView): Promise<Result> {
  const serializer = new PrometheusTextSerializer({ withoutScopeInfo: true });
  const start = performance.now();
  const blocks: Blocks = { wall: [], cpu: [] };
  // Each worker (in its own process): its snapshot a part at a time, each part encoded as the
  // IPC channel does (JSON), a turn of its event loop between two parts.
  const messages: string[][] = [];
  for (const w of workers) {
    const reader = new SnapshotReader(w.all);
    const parts: string[] = [];
    do parts.push(timed(blocks, () => JSON.stringify(reader.next())));
    while (!reader.done);
    messages.push(parts);
  }
  // The primary: decodes each part as it arrives, then sums in slices and encodes the total's parts.
  const snapshots = messages.map((parts) => {
    const metrics = parts.flatMap((m) =>
      timed(blocks, () => (JSON.parse(m) as Snapshot).metrics.map(keptPart)),
    );
    return { metrics };
  });
  const slicer = new Slicer(SLICE_MS, true);
  const totals = new Totals();
  for (const s of snapshots) await totals.addSliced(s, slicer);
  sliced(blocks, slicer);
  const totalParts: string[] = [];
  for (const part of totals.parts()) totalParts.push(timed(blocks, () => JSON.stringify(part)));
  // The answering worker: decodes the parts, updates its view in slices, writes the text (in slices).
  const total = {
    metrics: totalParts.flatMap((m) =>
      timed(blocks, () => (JSON.parse(m) as Snapshot).metrics.map(keptPart)),
    ),
  };
  const viewSlicer = new Slicer(SLICE_MS, true);
  const metrics = await view.update(total, viewSlicer);
  sliced(blocks, viewSlicer);
  const serialized = await serializer.serialize(
    { resource: emptyResource(), scopeMetrics: [] },
    { scope: { name: 'scanopy-metrics' }, metrics },
  );
  const ms = performance.now() - start;
  if (serialized.bytes.length === 0) throw new Error('empty exposition');
  // The serializer yields every 4 ms (its slices): its longest stretch is its slice.
  return { ms, blockMs: Math.max(...blocks.wall, 4), blockCpuMs: Math.max(...blocks.cpu, 4) };
}

function promWorkers(labelSets: number): Registry[] {
  return Array.from({ length: WORKERS }, () => {
    const registry = new Registry();
    const counter = new PromCounter({
      name: 'http_requests_total',
      help: 'Total number of HTTP requests',
      labelNames: ['method', 'path', 'status', 'entity_type'],
      registers: [registry],
    });
    const histogram = new PromHistogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['method', 'path'],
      buckets: DURATION,
      registers: [registry],
    });
    for (let i = 0; i < labelSets; i++) {
      const path = `/api/v1/r${i}/:id`;
      counter.inc({ method: 'GET', path, status: '200', entity_type: 'user' });
      histogram.observe({ method: 'GET', path }, 0.003 * (i % 7));
    }
    return registry;
  });
}

async function promScrape(workers: Registry[]): Promise<Result> {
  const start = performance.now();
  const blocks: Blocks = { wall: [], cpu: [] };
  const messages: string[] = [];
  for (const w of workers) {
    messages.push(await timedAsync(blocks, async () => JSON.stringify(await w.getMetricsAsJSON())));
  }
  const parsed = messages.map((m) => timed(blocks, () => JSON.parse(m) as object[]));
  // AggregatorRegistry.aggregate and metrics() run in the primary without yielding.
  const text = await timedAsync(blocks, () =>
    AggregatorRegistry.aggregate(parsed as never).metrics(),
  );
  const ms = performance.now() - start;
  if (text.length === 0) throw new Error('empty exposition');
  return { ms, blockMs: Math.max(...blocks.wall), blockCpuMs: Math.max(...blocks.cpu) };
}

/** One cluster scrape of one variant (the variants live in children of their own: no shared heap). */
export type ClusterVariant = 'scanopy-metrics' | 'prom-client';

export interface ClusterRound {
  ms: number;
  /** The longest stretch of any one process without a turn of its event loop: wall, CPU time. */
  blockMs: number;
  blockCpuMs: number;
}

/** The child of one variant: builds its workers' data once, then scrapes at each request. */
export function clusterChild(
  variant: ClusterVariant,
  labelSets: number,
): () => Promise<ClusterRound> {
  if (variant === 'scanopy-metrics') {
    const workers = scanopyWorkers(labelSets);
    const view = new TotalView();
    return () => scanopyScrape(workers, view);
  }
  const workers = promWorkers(labelSets);
  return () => promScrape(workers);
}
