// Goal 3, memory: a fresh child per library per round (interleaved), each measuring itself
// (memory-child.ts); medians over the children. Two tables: a path per label set, and a service
// of 500 routes.
import path from 'node:path';
import { Child } from './children';
import { ROUTES, SERVER_CPU } from './constants';
import type { MemoryLayout, MemoryRequest, MemoryResult } from './memory-child';
import type { Sizes } from './options';
import { median, rotate, summarize } from './stats';
import { SUBJECT_NAMES, type SubjectName } from './subjects/types';
import { count, fixed, ratio, type Goal, type Table } from './table';

const MB = 1024 * 1024;

async function measureAll(
  sizes: Sizes,
  layout: MemoryLayout,
  progress: (line: string) => void,
): Promise<Map<SubjectName, MemoryResult[]>> {
  const results = new Map<SubjectName, MemoryResult[]>(SUBJECT_NAMES.map((n) => [n, []]));
  for (let round = 0; round < sizes.memoryChildren; round++) {
    progress(`memory (${layout}): children round ${round + 1}/${sizes.memoryChildren}`);
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
          layout,
        } satisfies MemoryRequest);
        results.get(variant)?.push(result);
      } finally {
        await child.stop();
      }
    }
  }
  return results;
}

const ORDER = ['prom-client', 'otel-sdk', 'scanopy-metrics'] as const;

/** A path per label set: the table of issue 4. */
export async function memory(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const results = await measureAll(sizes, 'distinct', progress);
  const rss = (n: SubjectName): number[] => (results.get(n) ?? []).map((r) => r.rssBytes / MB);
  const prom = median(rss('prom-client'));
  const rows = ORDER.map((n) => {
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
        ' library loaded, one label set recorded and scraped, gc, RSS; then the label sets' +
        ' (GET /r/<i>/:id 200 anonymous: a path each), gc, RSS again.',
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

/** A service of 500 routes (issue 8): heap and RSS after gc, young generation, after a scrape. */
export async function memoryRoutes(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const results = await measureAll(sizes, 'routes', progress);
  const of = (n: SubjectName, pick: (r: MemoryResult) => number): number[] =>
    (results.get(n) ?? []).map((r) => pick(r) / MB);
  const heap = (r: MemoryResult): number => r.heapUsedBytes;
  const rss = (r: MemoryResult): number => r.rssBytes;
  const heapScraped = (r: MemoryResult): number => r.heapAfterScrapeBytes;
  const prom = {
    heap: median(of('prom-client', heap)),
    rss: median(of('prom-client', rss)),
    heapScraped: median(of('prom-client', heapScraped)),
  };
  const rows = ORDER.map((n) => {
    const h = summarize(of(n, heap));
    const r = summarize(of(n, rss));
    const hs = median(of(n, heapScraped));
    const young = `${fixed(median(of(n, (x) => x.youngBeforeBytes)), 0)} → ${fixed(median(of(n, (x) => x.youngAfterBytes)), 0)}`;
    return [
      n,
      fixed(h.median, 2),
      `${fixed(h.min, 2)}–${fixed(h.max, 2)}`,
      ratio(h.median / prom.heap),
      fixed(r.median, 1),
      `${fixed(r.min, 1)}–${fixed(r.max, 1)}`,
      ratio(r.median / prom.rss),
      fixed(hs, 2),
      ratio(hs / prom.heapScraped),
      young,
    ];
  });
  const goal = (text: string, value: number): Goal => ({
    text,
    measured: ratio(value),
    met: Number.isFinite(value) ? value <= 1 : undefined,
  });
  const pkg = (pick: (r: MemoryResult) => number): number => median(of('scanopy-metrics', pick));
  return {
    title: `Goal 3 — memory held for ${count(sizes.labelSets)} label sets on ${ROUTES} routes`,
    notes: [
      `One child per library per round (--expose-gc), ${sizes.memoryChildren} rounds, interleaved;` +
        ' library loaded, one label set recorded and scraped, the label sets built, gc; then' +
        ` every label set recorded once: /api/v1/r<n>/:id for ${ROUTES} routes, × GET POST PUT` +
        ' DELETE × (200 user, 200 api_key, 404 user, 401 anonymous, 500 daemon), gc.',
      'heap Δ = heapUsed after − before (MB, 2^20 bytes); RSS Δ the same for RSS; heap Δ scraped =' +
        ' heapUsed after one scrape (its text dropped) and gc, minus the same baseline; young gen =' +
        " V8's new space in MB before → after recording (what it grew to stays in RSS).",
    ],
    columns: [
      'variant',
      'heap Δ MB',
      'min–max',
      '× prom-client',
      'RSS Δ MB',
      'min–max',
      '× prom-client',
      'heap Δ scraped',
      '× prom-client',
      'young gen MB',
    ],
    rows,
    goals: [
      goal('scanopy-metrics heap Δ ≤ prom-client', pkg(heap) / prom.heap),
      goal('scanopy-metrics RSS Δ ≤ prom-client', pkg(rss) / prom.rss),
      goal(
        'scanopy-metrics heap Δ after a scrape ≤ prom-client',
        pkg(heapScraped) / prom.heapScraped,
      ),
    ],
  };
}
