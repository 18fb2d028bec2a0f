// Goal 1 again, in instructions: what each server executes per request of GET
// /api/v1/hosts/:id, counted by valgrind's callgrind. A count does not depend on what else the
// machine runs, so it resolves the few percent that separate the variants, which wall-clock CPU
// time on a shared machine (±20 % between rounds) cannot. The scrapes are counted in requests
// rather than in seconds (valgrind runs the server about 50× slower): one after every chunk.
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
import { count, fixed, ratio, type Table } from './table';

const VARIANTS: readonly ServerVariant[] = ['bare', 'scanopy-metrics', 'prom-client'];

/** Requests before counting, counted requests, and one scrape after each chunk of these. */
const FULL = { warm: 5000, counted: 20000, chunk: 5000 };
const QUICK = { warm: 200, counted: 400, chunk: 200 };

/** valgrind starts node in tens of seconds, and runs it far slower than native. */
const READY_TIMEOUT_MS = 300_000;

interface Counted {
  /** Instructions of the main thread (JavaScript, the event loop) per counted request. */
  main: number;
  /** Instructions of every other thread (GC helpers, compiler, libuv's pool) per request. */
  others: number;
  scrapes: number;
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
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    const pid = String(server.child.pid);
    await load(generator, server, sizes.warm);
    if (server.hasMetricsRoute) await scrape(server.base);
    control(['--zero', pid]);
    let scrapes = 0;
    for (let done = 0; done < sizes.counted; done += sizes.chunk) {
      progress(`instructions: ${variant} ${done}/${sizes.counted}`);
      await load(generator, server, Math.min(sizes.chunk, sizes.counted - done));
      if (server.hasMetricsRoute) {
        await scrape(server.base);
        scrapes++;
      }
    }
    control(['--dump', pid]);
    const dumps = readdirSync(dir)
      .filter((f) => f.startsWith(`${variant}.${pid}.`))
      .map((f) => path.join(dir, f));
    // `--dump` writes part 1 of every thread: <out>.<pid>.1-01, -02, ...
    const threads = dumps.filter((f) => /\.1-\d+$/.test(f));
    const main = threads.find((f) => f.endsWith('.1-01'));
    if (main === undefined) throw new Error(`no dump of the main thread among ${dumps.join(', ')}`);
    const all = threads.reduce((sum, f) => sum + instructionsIn(f), 0);
    const mainInstructions = instructionsIn(main);
    return {
      main: mainInstructions / sizes.counted,
      others: (all - mainInstructions) / sizes.counted,
      scrapes,
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
      count(c?.others ?? NaN),
      count(c ? c.main + c.others : NaN),
      ratio(of(v, (x) => x.main + x.others)),
      fixed(c?.scrapes ?? NaN, 0),
    ];
  });
  const pkg = of('scanopy-metrics', (x) => x.main);
  const prom = of('prom-client', (x) => x.main);
  return {
    title,
    notes: [
      `${count(counts.counted)} counted requests per variant after ${count(counts.warm)} of` +
        ` warm-up, 10 connections, one scrape after every ${count(counts.chunk)} requests` +
        ' (variants with a route).',
      'main = instructions of the main thread (JavaScript and the event loop) ÷ requests, the' +
        ' deterministic part; other threads (GC helpers, compiler, libuv) vary with timing.',
      'Run side by side under valgrind --tool=callgrind; scanopy-metrics is preloaded' +
        ' (--require dist/preload/register.js), prom-client is its middleware put first by hand.',
    ],
    columns: [
      'variant',
      'main/req',
      '× bare',
      'others/req',
      'total/req',
      'total × bare',
      'scrapes',
    ],
    rows,
    goals: [
      {
        text: 'scanopy-metrics ≤ 1.05 × bare (main thread)',
        measured: ratio(pkg),
        met: Number.isFinite(pkg) ? pkg <= 1.05 : undefined,
      },
      {
        text: 'scanopy-metrics below prom-client (main thread, × bare)',
        measured: `${ratio(pkg)} vs ${ratio(prom)}`,
        met: Number.isFinite(pkg) && Number.isFinite(prom) ? pkg < prom : undefined,
      },
    ],
  };
}
