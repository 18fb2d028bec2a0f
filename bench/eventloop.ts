// Goal 2, event-loop blocks: a server child holding the label sets serves autocannon's requests
// while the orchestrator scrapes it back to back; the child's monitorEventLoopDelay (1 ms
// resolution) reports the longest block. The package is wired by hand (cardinalityLimit 20000);
// a row without scrapes shows what the load alone produces on this machine.
import { stopAll, type Child } from './children';
import { scrapeLoop } from './http';
import type { LoadRequest, LoadResult } from './load-child';
import type { Sizes } from './options';
import type { StopMeasure } from './server-child';
import { BLOCK_LIMIT_MS } from './constants';
import { startLoadGenerator, startServer, type BenchServer, type ServerVariant } from './servers';
import { labelled } from './errors';
import { median, rotate, summarize } from './stats';
import { count, fixed, type Table } from './table';

interface Row {
  label: string;
  variant: ServerVariant;
  scrapes: boolean;
  /** What the scrapes ask for (fetch adds `Accept-Encoding: gzip, deflate` unless told). */
  headers?: Record<string, string>;
}

/** What Prometheus 2.42 sends: OpenMetrics first, and gzip. */
const AS_PROMETHEUS = {
  Accept:
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'Accept-Encoding': 'gzip',
};

const ROWS: readonly Row[] = [
  {
    label: 'scanopy-metrics (text, identity)',
    variant: 'scanopy-metrics',
    scrapes: true,
    headers: { 'Accept-Encoding': 'identity' },
  },
  {
    label: 'scanopy-metrics (OpenMetrics, gzip)',
    variant: 'scanopy-metrics',
    scrapes: true,
    headers: AS_PROMETHEUS,
  },
  { label: 'prom-client', variant: 'prom-client', scrapes: true },
  { label: 'otel-sdk', variant: 'otel-sdk', scrapes: true },
  { label: 'scanopy-metrics, load only', variant: 'scanopy-metrics', scrapes: false },
];

interface Round {
  maxMs: number;
  /** The longest block as main-thread CPU time (NaN on a Node without process.threadCpuUsage). */
  maxCpuMs: number;
  p99Ms: number;
  blocksOverLimit: number;
  scrapes: number;
  scrapeMs: number;
  requestsPerSecond: number;
}

/** Pause between two scrapes: back to back, with a breath so the loop is not only scrapes. */
const SCRAPE_PAUSE_MS = 100;

async function measure(server: BenchServer, row: Row, load: Child, sizes: Sizes): Promise<Round> {
  await server.child.call('start', { eventLoop: true });
  const scraper = row.scrapes ? scrapeLoop(server.base, SCRAPE_PAUSE_MS, row.headers) : undefined;
  let result: LoadResult;
  let scraped: { scrapes: number; latenciesMs: number[] } | undefined;
  try {
    result = await load.call<LoadResult>('run', {
      url: server.url,
      connections: sizes.connections,
      duration: sizes.blockSeconds,
    } satisfies LoadRequest);
  } finally {
    scraped = await scraper?.stop();
  }
  const stop = await server.child.call<StopMeasure>('stop');
  if (result.errors || result.non2xx) {
    throw new Error(`${row.label}: requests failed under scrapes: ${JSON.stringify(result)}`);
  }
  return {
    maxMs: stop.eventLoopMaxMs ?? NaN,
    maxCpuMs: stop.eventLoopMaxCpuMs ?? NaN,
    p99Ms: stop.eventLoopP99Ms ?? NaN,
    blocksOverLimit: stop.eventLoopBlocksOverLimit ?? NaN,
    scrapes: scraped?.scrapes ?? 0,
    scrapeMs: median(scraped?.latenciesMs ?? []),
    requestsPerSecond: result.requestsPerSecond,
  };
}

export async function eventLoop(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const servers = new Map<ServerVariant, BenchServer>();
  let load: Child | undefined;
  const rounds = new Map<Row, Round[]>(ROWS.map((r) => [r, []]));
  try {
    load = await startLoadGenerator();
    for (const row of ROWS) {
      if (!servers.has(row.variant)) {
        servers.set(row.variant, await startServer(row.variant, sizes.labelSets));
      }
    }
    for (let round = 0; round <= sizes.blockRounds; round++) {
      progress(
        round === 0
          ? 'event loop: warm-up round'
          : `event loop: round ${round}/${sizes.blockRounds}`,
      );
      for (const row of rotate(ROWS, round)) {
        const server = servers.get(row.variant);
        if (!server) throw new Error(`no server for ${row.variant}`);
        const result = await labelled(row.label, measure(server, row, load, sizes));
        if (round > 0) rounds.get(row)?.push(result);
      }
    }
  } finally {
    await stopAll([load, ...[...servers.values()].map((s) => s.child)]);
  }

  const rows = ROWS.map((row) => {
    const rs = rounds.get(row) ?? [];
    const s = summarize(rs.map((r) => r.maxMs));
    return [
      row.label,
      fixed(s.median, 1),
      fixed(s.min, 1),
      fixed(s.max, 1),
      fixed(median(rs.map((r) => r.maxCpuMs)), 1),
      fixed(Math.max(...rs.map((r) => r.maxCpuMs)), 1),
      fixed(median(rs.map((r) => r.p99Ms)), 1),
      fixed(median(rs.map((r) => r.blocksOverLimit)), 0),
      fixed(median(rs.map((r) => r.scrapes)), 0),
      fixed(median(rs.map((r) => r.scrapeMs)), 0),
      count(median(rs.map((r) => r.requestsPerSecond))),
    ];
  });
  // Both ways the package is scraped: uncompressed text, and OpenMetrics gzipped.
  const pkg = summarize(
    [ROWS[0], ROWS[1]].flatMap((row) => (rounds.get(row) ?? []).map((r) => r.maxMs)),
  );
  const floor = median((rounds.get(ROWS[4]) ?? []).map((r) => r.maxMs));
  const pkgCpu = summarize(
    [ROWS[0], ROWS[1]].flatMap((row) => (rounds.get(row) ?? []).map((r) => r.maxCpuMs)),
  );
  const cpuFloor = median((rounds.get(ROWS[4]) ?? []).map((r) => r.maxCpuMs));
  return {
    title: `Goal 2 — longest event-loop block while serving and scraping, ${count(sizes.labelSets)} label sets`,
    notes: [
      `Server child on the server core holding ${count(sizes.labelSets)} label sets; autocannon` +
        ` (${sizes.connections} connections) for ${sizes.blockSeconds} s per variant per round;` +
        ` scrapes over HTTP back to back (${SCRAPE_PAUSE_MS} ms apart) throughout.`,
      `${sizes.blockRounds} counted rounds after 1 warm-up, interleaved (order rotated).` +
        ' block = max of monitorEventLoopDelay({ resolution: 1 }) over the round, in ms.',
      `blocks > ${BLOCK_LIMIT_MS} ms = delays over the limit per round (median; from the histogram's` +
        ' percentiles, so approximate); each is one block of the loop, whatever its cause.',
      '"load only" = the package\'s server with no scrape: the floor this machine and load give' +
        ' (preemption by other processes shows as event-loop delay too).',
      'block CPU ms = the most main-thread CPU time between two turns of a 1 ms timer (median' +
        ' over rounds, worst round): the longest block as CPU time, which preemption by other' +
        ' processes does not inflate; from process.threadCpuUsage, so only on Node 23.9+ ("-"' +
        ' before: run the suite with such a node first on PATH).',
      'scanopy-metrics is scraped two ways: the text format uncompressed (Accept-Encoding:' +
        " identity), and as Prometheus 2.42 asks (OpenMetrics 1.0.0, gzip: compressed on libuv's" +
        ' thread pool); prom-client and otel-sdk send uncompressed text whatever is asked.',
    ],
    columns: [
      'variant',
      'max block ms',
      'min',
      'max',
      'block CPU ms',
      'worst',
      'p99 delay ms',
      `blocks > ${BLOCK_LIMIT_MS} ms`,
      'scrapes/round',
      'scrape ms',
      'req/s',
    ],
    rows,
    goals: [
      {
        text: `scanopy-metrics: no event-loop block > ${BLOCK_LIMIT_MS} ms during scrapes, compression included (worst round)`,
        measured:
          `median ${fixed(pkg.median, 1)} ms, worst ${fixed(pkg.max, 1)} ms` +
          ` (load-only floor: median ${fixed(floor, 1)} ms)`,
        met: Number.isFinite(pkg.max) ? pkg.max <= BLOCK_LIMIT_MS : undefined,
      },
      {
        text: `scanopy-metrics: no block > ${BLOCK_LIMIT_MS} ms of main-thread CPU time during scrapes, compression included (worst round)`,
        measured:
          `median ${fixed(pkgCpu.median, 1)} ms, worst ${fixed(pkgCpu.max, 1)} ms` +
          ` (load-only floor: median ${fixed(cpuFloor, 1)} ms)`,
        met: Number.isFinite(pkgCpu.max) ? pkgCpu.max <= BLOCK_LIMIT_MS : undefined,
      },
    ],
  };
}
