// Goal 3, memory: a fresh child per library per round (interleaved), each measuring itself
// (memory-child.ts); medians over the children.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import type { MemoryRequest, MemoryResult } from './memory-child';
import type { Sizes } from './options';
import { median, rotate, summarize } from './stats';
import { SUBJECT_NAMES, type SubjectName } from './subjects/types';
import { count, fixed, ratio, type Table } from './table';

const MB = 1024 * 1024;

export async function memory(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const results = new Map<SubjectName, MemoryResult[]>(SUBJECT_NAMES.map((n) => [n, []]));
  for (let round = 0; round < sizes.memoryChildren; round++) {
    progress(`memory: children round ${round + 1}/${sizes.memoryChildren}`);
    for (const variant of rotate(SUBJECT_NAMES, round)) {
      const child = await Child.start({
        name: `memory ${variant}`,
        module: path.join(__dirname, 'memory-child.js'),
        nodeArgs: ['--expose-gc'],
        cpu: SERVER_CPU,
      });
      try {
        const result = await child.call<MemoryResult>('measure', {
          variant,
          labelSets: sizes.labelSets,
        } satisfies MemoryRequest);
        results.get(variant)?.push(result);
      } finally {
        await child.stop();
      }
    }
  }

  const rss = (n: SubjectName): number[] => (results.get(n) ?? []).map((r) => r.rssBytes / MB);
  const prom = median(rss('prom-client'));
  const rows = (['prom-client', 'otel-sdk', 'scanopy-metrics'] as const).map((n) => {
    const s = summarize(rss(n));
    const rs = results.get(n) ?? [];
    return [
      n,
      fixed(s.median, 1),
      fixed(s.min, 1),
      fixed(s.max, 1),
      ratio(s.median / prom),
      fixed(median(rs.map((r) => r.heapUsedBytes / MB)), 1),
      fixed(median(rs.map((r) => r.rssAfterScrapeBytes / MB)), 1),
    ];
  });
  const pkg = median(rss('scanopy-metrics')) / prom;
  return {
    title: `Goal 3 — memory held for ${count(sizes.labelSets)} label sets`,
    notes: [
      `One child per library per round (--expose-gc), ${sizes.memoryChildren} rounds, interleaved;` +
        ' library loaded and one label set recorded, gc, RSS; then the label sets, gc, RSS again.',
      'RSS Δ = the difference, in MB (2^20 bytes); heap Δ = heapUsed difference; RSS Δ after a' +
        " scrape = RSS after one scrape and gc, minus the same baseline (the scrape's high-water" +
        ' mark that the process keeps; informational).',
    ],
    columns: [
      'variant',
      'RSS Δ MB',
      'min',
      'max',
      '× prom-client',
      'heap Δ MB',
      'RSS Δ after a scrape',
    ],
    rows,
    goals: [
      {
        text: 'scanopy-metrics RSS ≤ prom-client',
        measured: ratio(pkg),
        met: Number.isFinite(pkg) ? pkg <= 1 : undefined,
      },
    ],
  };
}
