// Issue 10's scrape goal: one cluster scrape of 4 workers × 10,000 label sets, scanopy-metrics
// against prom-client's AggregatorRegistry, each variant in a child of its own on the server core,
// rounds interleaved (bench/cluster.ts says what is measured).
import path from 'node:path';
import { Child } from './children';
import { WORKERS, type ClusterRound, type ClusterVariant } from './cluster';
import { SERVER_CPU } from './constants';
import type { Sizes } from './options';
import { rotate, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

const VARIANTS: readonly ClusterVariant[] = ['scanopy-metrics', 'prom-client'];

export async function clusterScrape(
  sizes: Sizes,
  progress: (line: string) => void,
): Promise<Table> {
  const rounds = sizes.quick ? 1 : Math.max(sizes.rounds, 9);
  progress(`cluster: ${rounds} rounds of one scrape of ${WORKERS} workers per variant`);
  const children = new Map<ClusterVariant, Child>();
  const results: Record<ClusterVariant, ClusterRound[]> = {
    'scanopy-metrics': [],
    'prom-client': [],
  };
  try {
    for (const variant of VARIANTS) {
      const child = await Child.start({
        name: `cluster benchmark (${variant})`,
        module: path.join(__dirname, 'cluster-child.js'),
        cpu: SERVER_CPU,
      });
      children.set(variant, child);
      await child.call('setup', { variant, labelSets: sizes.labelSets });
    }
    for (let round = 0; round < rounds + 1; round++) {
      for (const variant of rotate(VARIANTS, round)) {
        const result = await children.get(variant)!.call<ClusterRound>('scrape');
        if (round > 0) results[variant].push(result); // round 0 warms up
      }
    }
  } finally {
    for (const child of children.values()) await child.stop();
  }

  const ms = (v: ClusterVariant) => summarize(results[v].map((r) => r.ms));
  const block = (v: ClusterVariant) => summarize(results[v].map((r) => r.blockMs));
  const blockCpu = (v: ClusterVariant) => summarize(results[v].map((r) => r.blockCpuMs));
  const time = ms('scanopy-metrics').median / ms('prom-client').median;
  const longest = block('scanopy-metrics').median;
  const longestCpu = blockCpu('scanopy-metrics').median;
  return {
    title: `cluster scrape: ${WORKERS} workers × ${count(sizes.labelSets)} label sets each (counter + histogram)${sizes.quick ? ' (QUICK: too small for conclusions)' : ''}`,
    notes: [
      "every worker's snapshot and its JSON (as the IPC channel encodes it), the primary's sum, the answering worker's total and text;",
      "prom-client: each worker's getMetricsAsJSON and its JSON, AggregatorRegistry.aggregate and metrics().",
      'longest block: the longest stretch of any one of those processes without a turn of its event loop (wall time; CPU: the same in CPU time).',
      `each variant in a child of its own pinned to the server core; medians of ${rounds} interleaved rounds.`,
    ],
    columns: ['variant', 'scrape ms', 'min–max', 'longest block ms', 'min–max', 'CPU ms'],
    rows: VARIANTS.map((v) => [
      v,
      fixed(ms(v).median),
      `${fixed(ms(v).min)}–${fixed(ms(v).max)}`,
      fixed(block(v).median),
      `${fixed(block(v).min)}–${fixed(block(v).max)}`,
      fixed(blockCpu(v).median),
    ]),
    goals: [
      {
        text: 'scrape time ≤ 1/3 of prom-client',
        measured: ratio(time),
        met: Number.isFinite(time) ? time <= 1 / 3 : undefined,
      },
      {
        text: 'longest event-loop block of any process ≤ 20 ms',
        measured: `${fixed(longest)} ms (CPU ${fixed(longestCpu)} ms)`,
        met: Number.isFinite(longest) ? longest <= 20 : undefined,
      },
    ],
  };
}
