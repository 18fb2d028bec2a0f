// Goal 1 again, in instructions: what each server executes per request of GET
// /api/v1/hosts/:id, counted by valgrind's callgrind. A count does not depend on what else the
// machine runs, so it resolves the few percent that separate the variants, which wall-clock CPU
// time on a shared machine (±20 % between rounds) cannot.
//
// Requests and scrapes are counted apart, each as the median of several dumps of the counters:
// a scrape runs rarely, so its code stays cold (millions of instructions, mostly unoptimised,
// against ~150,000 for a request), and a one-off in the window (a lazy compile, an
// old-generation GC) adds a constant: both made a per-request figure depend on how many
// requests the window held. An empty `--require` counted in one window: +7,000 per request over
// 10,000 requests, +2,400 over 30,000 (the same ~70 million instructions once).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAll, type Child } from './children';
import { scrape } from './http';
import type { LoadRequest, LoadResult } from './load-child';
import type { Sizes } from './options';
import { startLoadGenerator, startServer, type BenchServer, type ServerVariant } from './servers';
import { labelled } from './errors';
import { median } from './stats';
import { count, ratio, type Table } from './table';

const VARIANTS: readonly ServerVariant[] = ['bare', 'scanopy-metrics', 'prom-client'];

/**
 * Requests before counting (15,000: after 4,000 to 5,000 the package's steady state was not reached
 * yet, 1.05× bare where 15,000 gave 1.07×, a JIT outcome that takes longer under valgrind); then `segments` dumps of `segment` requests each, and `scrapes`
 * dumps of one scrape each (variants with a route).
 */
const FULL = { warm: 15000, segments: 5, segment: 4000, scrapes: 5 };
const QUICK = { warm: 200, segments: 3, segment: 200, scrapes: 3 };

/**
 * V8's young generation, fixed at the size it settles at in these servers run natively under
 * load (8 MB a semi-space, bare and preloaded alike, read with v8.getHeapSpaceStatistics()).
 * Left to itself, V8 shrinks it when fewer bytes are allocated per millisecond, and under
 * valgrind that rate depends on how fast valgrind runs, that is on the machine's load: runs of the
 * same server then differed by 3,000 instructions per request in the GC's root scanning alone
 * (more scavenges of a smaller young generation), more than the package costs. The same flags
 * for every variant.
 */
const YOUNG_GENERATION = ['--min-semi-space-size=8', '--max-semi-space-size=8'];

/** The scrape rate of the amortized column: one scrape per this many requests. */
const AMORTIZED_OVER = 1000;

/** valgrind starts node in tens of seconds, and runs it far slower than native. */
const READY_TIMEOUT_MS = 300_000;

interface Counted {
  /** Instructions of the main thread (JavaScript, the event loop) per request: median of the segments. */
  main: number;
  /** The segments' own figures, in order, to show their spread. */
  segments: number[];
  /** Instructions of every other thread (GC helpers, compiler, libuv's pool) per request. */
  others: number;
  /** Main-thread instructions of one scrape (median), for a variant with a route. */
  scrape?: number;
}

export function valgrindAvailable(): boolean {
  return spawnSync('valgrind', ['--version']).status === 0;
}

/** The `summary:` (or `totals:`) line of a callgrind dump: instructions executed. */
function instructionsIn(file: string): number {
  const text = readFileSync(file, 'utf8');
  const line = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!line) throw new Error(`no summary in ${file}`);
  return Number(line[1]);
}

function control(args: string[]): void {
  const result = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`callgrind_control ${args.join(' ')}: ${result.stderr || result.stdout}`);
  }
}

async function load(generator: Child, server: BenchServer, amount: number): Promise<void> {
  // A server under valgrind is slow, the more so before its code is compiled and on a loaded
  // machine: a response may take minutes, a chunk of them an hour.
  const result = await generator.call<LoadResult>(
    'run',
    { url: server.url, connections: 10, amount, timeoutSeconds: 1200 } satisfies LoadRequest,
    3_600_000,
  );
  if (result.errors || result.timeouts || result.non2xx || result.ok !== amount) {
    throw new Error(`expected ${amount} responses 200, got ${JSON.stringify(result)}`);
  }
}

async function measure(
  variant: ServerVariant,
  dir: string,
  sizes: typeof FULL,
  progress: (line: string) => void,
): Promise<Counted> {
  const out = path.join(dir, variant);
  let server: BenchServer | undefined;
  let generator: Child | undefined;
  try {
    generator = await startLoadGenerator();
    server = await startServer(variant, 0, {
      // One dump file per thread: thread 1 is the main thread.
      wrapper: [
        'valgrind',
        '--quiet',
        '--tool=callgrind',
        '--separate-threads=yes',
        '--collect-atstart=yes',
        `--callgrind-out-file=${out}.%p`,
      ],
      nodeArgs: YOUNG_GENERATION,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    const pid = String(server.child.pid);
    await load(generator, server, sizes.warm);
    if (server.hasMetricsRoute) await scrape(server.base);
    control(['--zero', pid]);
    let part = 0;
    /** Dumps the counters: what the main thread and the others executed since the last dump. */
    const dump = (): { main: number; others: number } => {
      control(['--dump', pid]);
      part++;
      // `--dump` writes part N of every thread: <out>.<pid>.N-01 (the main thread), -02, ...
      const threads = readdirSync(dir)
        .filter((f) => f.startsWith(`${variant}.${pid}.${part}-`))
        .map((f) => path.join(dir, f));
      const main = threads.find((f) => f.endsWith(`.${part}-01`));
      if (main === undefined) throw new Error(`no dump ${part} of the main thread in ${dir}`);
      const all = threads.reduce((sum, f) => sum + instructionsIn(f), 0);
      const mainInstructions = instructionsIn(main);
      return { main: mainInstructions, others: all - mainInstructions };
    };
    const perRequest: number[] = [];
    const othersPerRequest: number[] = [];
    for (let k = 1; k <= sizes.segments; k++) {
      progress(`instructions: ${variant} requests, segment ${k}/${sizes.segments}`);
      await load(generator, server, sizes.segment);
      const counted = dump();
      perRequest.push(counted.main / sizes.segment);
      othersPerRequest.push(counted.others / sizes.segment);
    }
    const perScrape: number[] = [];
    if (server.hasMetricsRoute) {
      for (let k = 1; k <= sizes.scrapes; k++) {
        progress(`instructions: ${variant} scrape ${k}/${sizes.scrapes}`);
        await scrape(server.base);
        perScrape.push(dump().main);
      }
    }
    return {
      main: median(perRequest),
      segments: perRequest,
      others: median(othersPerRequest),
      scrape: perScrape.length > 0 ? median(perScrape) : undefined,
    };
  } finally {
    await stopAll([generator, server?.child]);
  }
}

export async function instructionCounts(
  sizes: Sizes,
  progress: (line: string) => void,
): Promise<Table> {
  const title = 'Goal 1 — hot path in instructions per request (callgrind), GET /api/v1/hosts/:id';
  if (!valgrindAvailable()) {
    return {
      title,
      notes: ['valgrind is not installed (Debian: apt-get install valgrind): not measured.'],
      columns: ['variant'],
      rows: [],
      goals: [],
    };
  }
  const counts = sizes.quick ? QUICK : FULL;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scanopy-instructions-'));
  const results = new Map<ServerVariant, Counted>();
  try {
    // Side by side: counts do not depend on what else runs, only the time they take does.
    await Promise.all(
      VARIANTS.map(async (variant) => {
        results.set(variant, await labelled(variant, measure(variant, dir, counts, progress)));
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bare = results.get('bare');
  const of = (v: ServerVariant, pick: (c: Counted) => number): number => {
    const c = results.get(v);
    return c && bare ? pick(c) / pick(bare) : NaN;
  };
  const rows = VARIANTS.map((v) => {
    const c = results.get(v);
    return [
      v,
      count(c?.main ?? NaN),
      ratio(of(v, (x) => x.main)),
      c ? c.segments.map((x) => count(x)).join(' ') : '-',
      count(c?.others ?? NaN),
      c?.scrape === undefined ? '-' : count(c.scrape),
      count(c ? c.main + (c.scrape ?? 0) / AMORTIZED_OVER : NaN),
      ratio(of(v, (x) => x.main + (x.scrape ?? 0) / AMORTIZED_OVER)),
    ];
  });
  const pkg = of('scanopy-metrics', (x) => x.main);
  const prom = of('prom-client', (x) => x.main);
  return {
    title,
    notes: [
      `${count(counts.warm)} requests of warm-up and one scrape, then ${counts.segments} segments` +
        ` of ${count(counts.segment)} requests (10 connections) and ${counts.scrapes} scrapes` +
        ' (variants with a route), the counters dumped after each.',
      'main/req = instructions of the main thread (JavaScript and the event loop) ÷ requests, median' +
        ' of the segments (listed; the first often carries the end of the warm-up); other threads' +
        ' (GC helpers, compiler, libuv) vary with timing.',
      'scrape = main-thread instructions of one scrape of the route (median; its code runs rarely,' +
        ` so mostly not optimised); + 1 scrape/${count(AMORTIZED_OVER)} req = main/req with a scrape's` +
        ` share at one scrape per ${count(AMORTIZED_OVER)} requests (a service at 67 req/s scraped` +
        ' every 15 s).',
      'Run side by side under valgrind --tool=callgrind; scanopy-metrics is preloaded' +
        ' (--require dist/preload/register.js), prom-client is its middleware put first by hand.',
      `Every variant runs with ${YOUNG_GENERATION.join(' ')}: the young generation these servers` +
        ' settle at natively, which V8 would otherwise resize from a rate that valgrind slows.',
    ],
    columns: [
      'variant',
      'main/req',
      '× bare',
      'segments',
      'others/req',
      'scrape',
      `+ 1 scrape/${count(AMORTIZED_OVER)} req`,
      '× bare',
    ],
    rows,
    goals: [
      {
        text: 'scanopy-metrics ≤ 1.05 × bare (main thread, per request)',
        measured: ratio(pkg),
        met: Number.isFinite(pkg) ? pkg <= 1.05 : undefined,
      },
      {
        text: 'scanopy-metrics below prom-client (main thread per request, × bare)',
        measured: `${ratio(pkg)} vs ${ratio(prom)}`,
        met: Number.isFinite(pkg) && Number.isFinite(prom) ? pkg < prom : undefined,
      },
    ],
  };
}
