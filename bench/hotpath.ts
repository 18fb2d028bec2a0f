// Goal 1, hot path: server CPU per request of GET /api/v1/hosts/:id for bare Koa, the package
// (preloaded), a prom-client middleware and a naive OTel SDK middleware. Each server is its own
// process on the server core; autocannon sends a fixed number of requests from the other core;
// the orchestrator scrapes the variants that have a route once a second throughout, so the figure
// includes whatever work a library defers to collection time.
import { stopAll, type Child } from './children';
import { scrapeLoop } from './http';
import type { LoadRequest, LoadResult } from './load-child';
import type { Sizes } from './options';
import type { StopMeasure } from './server-child';
import { startLoadGenerator, startServer, type BenchServer, type ServerVariant } from './servers';
import { labelled } from './errors';
import { median, rotate, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

const VARIANTS: readonly ServerVariant[] = ['bare', 'scanopy-metrics', 'prom-client', 'otel-sdk'];

interface Round {
  microsPerRequest: number;
  scrapes: number;
  requestsPerSecond: number;
}

/** Fails the round if anything but a 200 came back: a fast error page is not a result. */
function checkLoad(server: BenchServer, result: LoadResult, expected: number): void {
  if (result.errors || result.timeouts || result.non2xx || result.ok !== expected) {
    throw new Error(
      `${server.variant}: expected ${expected} responses 200, got ${JSON.stringify(result)}`,
    );
  }
}

async function measure(server: BenchServer, load: Child, sizes: Sizes): Promise<Round> {
  await server.child.call('start');
  const scraper = server.hasMetricsRoute
    ? scrapeLoop(server.base, sizes.scrapeIntervalMs)
    : undefined;
  let result: LoadResult;
  let scraped: { scrapes: number } | undefined;
  try {
    result = await load.call<LoadResult>('run', {
      url: server.url,
      connections: sizes.connections,
      amount: sizes.requests,
    } satisfies LoadRequest);
  } finally {
    // Stopped even when the load failed, so that no scrape is left running.
    scraped = await scraper?.stop();
  }
  const stop = await server.child.call<StopMeasure>('stop');
  checkLoad(server, result, sizes.requests);
  return {
    microsPerRequest: stop.cpuMicros / sizes.requests,
    scrapes: scraped?.scrapes ?? 0,
    requestsPerSecond: result.requestsPerSecond,
  };
}

export async function hotPath(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const servers: BenchServer[] = [];
  let load: Child | undefined;
  const rounds = new Map<ServerVariant, Round[]>(VARIANTS.map((v) => [v, []]));
  try {
    load = await startLoadGenerator();
    for (const variant of VARIANTS) servers.push(await startServer(variant));
    for (let round = 0; round <= sizes.hotPathRounds; round++) {
      progress(
        round === 0 ? 'hot path: warm-up round' : `hot path: round ${round}/${sizes.hotPathRounds}`,
      );
      for (const server of rotate(servers, round)) {
        const result = await labelled(server.variant, measure(server, load, sizes));
        if (round > 0) rounds.get(server.variant)?.push(result);
      }
    }
  } finally {
    await stopAll([load, ...servers.map((s) => s.child)]);
  }

  const micros = (v: ServerVariant): number[] =>
    (rounds.get(v) ?? []).map((r) => r.microsPerRequest);
  const bare = median(micros('bare'));
  const ratioOf = (v: ServerVariant): number => median(micros(v)) / bare;
  const paired = (v: ServerVariant): number =>
    median(micros(v).map((m, i) => m / micros('bare')[i]));
  const rows = VARIANTS.map((v) => {
    const s = summarize(micros(v));
    const rs = rounds.get(v) ?? [];
    return [
      v,
      fixed(s.median, 1),
      fixed(s.min, 1),
      fixed(s.max, 1),
      ratio(ratioOf(v)),
      ratio(paired(v)),
      fixed(median(rs.map((r) => r.scrapes)), 0),
      count(median(rs.map((r) => r.requestsPerSecond))),
    ];
  });
  const pkg = ratioOf('scanopy-metrics');
  const prom = ratioOf('prom-client');
  return {
    title: 'Goal 1 — hot path: server CPU per request, GET /api/v1/hosts/:id (200)',
    notes: [
      `${count(sizes.requests)} requests per variant per round, ${sizes.connections} connections,` +
        ` ${sizes.hotPathRounds} counted rounds after 1 warm-up, variants interleaved (order rotated).`,
      'CPU = process.cpuUsage() (user+system, all threads) of the server between start and stop,' +
        ' ÷ requests; includes the scrapes made once a second throughout (scanopy-metrics with' +
        ' its bearer token).',
      'scanopy-metrics is started with --require dist/preload/register.js and SCANOPY_METRICS_TOKEN (the' +
        ' preload); prom-client and otel-sdk are a recording middleware put first by hand.',
      '× bare = median ÷ median of bare; paired = median over rounds of (round ÷ same round of bare).',
    ],
    columns: ['variant', 'µs/req', 'min', 'max', '× bare', 'paired', 'scrapes/round', 'req/s'],
    rows,
    goals: [
      {
        text: 'scanopy-metrics ≤ 1.05 × bare',
        measured: ratio(pkg),
        met: Number.isFinite(pkg) ? pkg <= 1.05 : undefined,
      },
      {
        text: 'scanopy-metrics below prom-client (× bare)',
        measured: `${ratio(pkg)} vs ${ratio(prom)}`,
        met: Number.isFinite(pkg) && Number.isFinite(prom) ? pkg < prom : undefined,
      },
    ],
  };
}
