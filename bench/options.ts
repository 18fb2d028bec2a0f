// Command-line flags and the sizes they select. Full sizes are those of issue 4; quick sizes are
// a CI smoke test (every table printed, numbers indicative only) that finishes well within 60 s.

export const SUITES = [
  'hotpath',
  'instructions',
  'record',
  'events',
  'scrape',
  'memory',
  'runtime',
  'startup',
  'cluster',
] as const;
export type SuiteName = (typeof SUITES)[number];

export interface Sizes {
  quick: boolean;
  suites: SuiteName[];
  /** Counted rounds of the interleaved benchmarks but the hot path (a warm-up round comes first). */
  rounds: number;
  /** Counted rounds of the hot path, the noisiest table: more of them steady its medians. */
  hotPathRounds: number;
  /** Hot path: requests per variant per round, and load-generator connections. */
  requests: number;
  connections: number;
  /** Hot path: the orchestrator scrapes the variants that have a route this often. */
  scrapeIntervalMs: number;
  /** Record: requests per variant per round through each recording middleware. */
  recordOps: number;
  /** Events: operations per variant per round; observer batches of this many events. */
  eventOps: number;
  eventBatch: number;
  /** Scrape and memory: distinct label sets (each one counter and one histogram series). */
  labelSets: number;
  /** Event-loop block: seconds of load per variant per round, and its rounds. */
  blockSeconds: number;
  blockRounds: number;
  /** Concurrent scrapes fired at once. */
  concurrentScrapes: number;
  /** Memory: children per variant. */
  memoryChildren: number;
}

const FULL: Omit<Sizes, 'quick' | 'suites'> = {
  rounds: 5,
  hotPathRounds: 9,
  requests: 40000,
  connections: 10,
  scrapeIntervalMs: 1000,
  recordOps: 200_000,
  eventOps: 1_000_000,
  eventBatch: 10,
  labelSets: 10000,
  blockSeconds: 3,
  blockRounds: 3,
  concurrentScrapes: 5,
  memoryChildren: 5,
};

const QUICK: Omit<Sizes, 'quick' | 'suites'> = {
  ...FULL,
  rounds: 1,
  hotPathRounds: 1,
  requests: 2000,
  recordOps: 20_000,
  eventOps: 100_000,
  labelSets: 1000,
  blockSeconds: 1,
  blockRounds: 1,
  memoryChildren: 1,
};

export const USAGE = `usage: npm run bench [-- --quick] [-- --only=${SUITES.join('|')}[,...]]
  --quick             CI smoke test: tiny sizes, 1 round, every table still printed
  --only=a,b          run only these suites
  --rounds=N          counted rounds of every suite (default 5, hot path 9; quick 1)
  --hotpath-rounds=N  counted rounds of the hot path alone (overrides --rounds there)
  --requests=N        hot-path requests per variant per round (default 40000, quick 2000)
  --label-sets=N      label sets of the scrape and memory benchmarks (default 10000, quick 1000)`;

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new Error(`${flag} expects a positive integer`);
  return value;
}

/** Parses the flags; throws on anything it does not know. */
export function parseArgs(argv: readonly string[]): Sizes | 'help' {
  const quick = argv.includes('--quick');
  const sizes: Sizes = { quick, suites: [...SUITES], ...(quick ? QUICK : FULL) };
  let hotPathRounds: number | undefined;
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2);
    switch (flag) {
      case '--quick':
        break;
      case '--help':
      case '-h':
        return 'help';
      case '--only': {
        const names = value.split(',').filter(Boolean);
        const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0) {
          throw new Error(`--only expects some of ${SUITES.join(', ')}; got "${value}"`);
        }
        sizes.suites = SUITES.filter((s) => names.includes(s));
        break;
      }
      case '--rounds':
        sizes.rounds = sizes.hotPathRounds = positiveInteger(flag, value);
        break;
      case '--hotpath-rounds':
        hotPathRounds = positiveInteger(flag, value);
        break;
      case '--requests':
        sizes.requests = positiveInteger(flag, value);
        break;
      case '--label-sets':
        sizes.labelSets = positiveInteger(flag, value);
        break;
      default:
        throw new Error(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  if (hotPathRounds !== undefined) sizes.hotPathRounds = hotPathRounds;
  return sizes;
}
