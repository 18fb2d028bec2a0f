// `npm run bench:cluster`: the cost of one cluster scrape of 4 workers with 10,000 label sets
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
import { takeSnapshot, type Snapshot } from '../src/cluster/snapshot';
import { Totals } from '../src/cluster/totals';
import { TotalView } from '../src/cluster/view';
import { PrometheusTextSerializer } from '../src/exposition/serializer';
import { emptyResource } from '@opentelemetry/resources';
import { rotate, summarize } from './stats';

const quick = process.argv.includes('--quick');
const WORKERS = 4;
const LABEL_SETS = quick ? 1000 : 10_000;
const ROUNDS = quick ? 3 : 9;
const DURATION = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Result {
  ms: number;
  blockMs: number;
}

/** Times `fn`, a synchronous stretch of one process; returns its result. */
function timed<T>(blocks: number[], fn: () => T): T {
  const start = performance.now();
  const value = fn();
  blocks.push(performance.now() - start);
  return value;
}

async function timedAsync<T>(blocks: number[], fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await fn();
  blocks.push(performance.now() - start);
  return value;
}

function scanopyWorkers(): Instruments[] {
  return Array.from({ length: WORKERS }, () => {
    const instruments = new Instruments({ cardinalityLimit: LABEL_SETS + 10 });
    for (let i = 0; i < LABEL_SETS; i++) {
      instruments.recordRequest('GET', `/api/v1/r${i}/:id`, '200', 'user', 0.003 * (i % 7));
    }
    return instruments;
  });
}

async function scanopyScrape(workers: Instruments[], view: TotalView): Promise<Result> {
  const serializer = new PrometheusTextSerializer({ withoutScopeInfo: true });
  const start = performance.now();
  const blocks: number[] = [];
  // Each worker: snapshot and encode (in its own process).
  const messages = workers.map((w) => timed(blocks, () => JSON.stringify(takeSnapshot(w.all))));
  // The primary: decode each message as it arrives, then sum and encode the total.
  const snapshots = messages.map((m) => timed(blocks, () => JSON.parse(m) as Snapshot));
  const total = timed(blocks, () => {
    const totals = new Totals();
    for (const s of snapshots) totals.add(s);
    return JSON.stringify(totals.snapshot());
  });
  // The answering worker: decode, update its view, write the text (in slices).
  const metrics = timed(blocks, () => view.update(JSON.parse(total) as Snapshot));
  const serialized = await serializer.serialize(
    { resource: emptyResource(), scopeMetrics: [] },
    { scope: { name: 'scanopy-metrics' }, metrics },
  );
  const ms = performance.now() - start;
  if (serialized.bytes.length === 0) throw new Error('empty exposition');
  // The serializer yields every 4 ms (its slices): its longest stretch is its slice.
  return { ms, blockMs: Math.max(...blocks, 4) };
}

function promWorkers(): Registry[] {
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
    for (let i = 0; i < LABEL_SETS; i++) {
      const path = `/api/v1/r${i}/:id`;
      counter.inc({ method: 'GET', path, status: '200', entity_type: 'user' });
      histogram.observe({ method: 'GET', path }, 0.003 * (i % 7));
    }
    return registry;
  });
}

async function promScrape(workers: Registry[]): Promise<Result> {
  const start = performance.now();
  const blocks: number[] = [];
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
  return { ms, blockMs: Math.max(...blocks) };
}

async function main(): Promise<void> {
  const scanopy = scanopyWorkers();
  const prom = promWorkers();
  const view = new TotalView();
  const results: Record<string, Result[]> = { 'scanopy-metrics': [], 'prom-client': [] };
  const variants = [
    ['scanopy-metrics', () => scanopyScrape(scanopy, view)],
    ['prom-client', () => promScrape(prom)],
  ] as const;
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, run] of rotate(variants, round)) {
      const result = await run();
      if (round > 0) results[name].push(result); // round 0 warms up
    }
  }
  const ms = (name: string) => summarize(results[name].map((r) => r.ms));
  const block = (name: string) => summarize(results[name].map((r) => r.blockMs));
  const lines = [
    `== cluster scrape: ${WORKERS} workers × ${LABEL_SETS} label sets (counter + histogram), in process${quick ? ' (QUICK: too small for conclusions)' : ''}`,
    `   medians of ${ROUNDS} interleaved rounds (min–max)`,
    '',
    'variant            scrape ms              longest block ms',
  ];
  for (const name of Object.keys(results)) {
    const t = ms(name);
    const b = block(name);
    lines.push(
      `${name.padEnd(18)} ${t.median.toFixed(1).padStart(7)} (${t.min.toFixed(1)}–${t.max.toFixed(1)})   ${b.median.toFixed(1).padStart(7)} (${b.min.toFixed(1)}–${b.max.toFixed(1)})`,
    );
  }
  const ratio = ms('scanopy-metrics').median / ms('prom-client').median;
  const blockRatio = block('scanopy-metrics').median / block('prom-client').median;
  lines.push('');
  lines.push(
    `scrape time ratio ${ratio.toFixed(2)} (goal ≤ 0.33: ${ratio <= 1 / 3 ? 'met' : 'not met'}); block ratio ${blockRatio.toFixed(2)}; longest block ${block('scanopy-metrics').median.toFixed(1)} ms (goal ≤ 20 ms: ${block('scanopy-metrics').median <= 20 ? 'met' : 'not met'})`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
