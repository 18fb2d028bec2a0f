// Goal 1, what recording one request costs: runs record-bench.ts in a child on the server core and
// makes its table, printed right after the hot path's.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import type { Sizes } from './options';
import { RECORD_VARIANTS, ROUTE, type RecordRequest, type RecordResult } from './record-bench';
import { median, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

export async function recordCost(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  progress(`record: ${sizes.rounds} rounds of ${count(sizes.recordOps)} requests per variant`);
  const child = await Child.start({
    name: 'record benchmark',
    module: path.join(__dirname, 'micro-child.js'),
    nodeArgs: ['--expose-gc'],
    cpu: SERVER_CPU,
  });
  let result: RecordResult;
  try {
    result = await child.call<RecordResult>('record', {
      ops: sizes.recordOps,
      rounds: sizes.rounds,
    } satisfies RecordRequest);
  } finally {
    await child.stop();
  }

  const { ns } = result;
  // Paired: each round's figure minus the baseline's of the same round, then the median.
  const net = (v: (typeof RECORD_VARIANTS)[number]): number =>
    median(ns[v].map((value, i) => value - ns.baseline[i]));
  const prom = net('prom-client middleware');
  const rows = RECORD_VARIANTS.map((v) => {
    const s = summarize(ns[v]);
    const isBaseline = v === 'baseline';
    return [
      v,
      fixed(s.median, 0),
      fixed(s.min, 0),
      fixed(s.max, 0),
      isBaseline ? '-' : fixed(net(v), 0),
      isBaseline ? '-' : ratio(net(v) / prom),
    ];
  });
  const pkg = net('scanopy-metrics firstMiddleware') / prom;
  return {
    title: 'Goal 1 — what recording one request costs (in-process)',
    notes: [
      "The package's own work per request, which the server-CPU table above cannot resolve on a" +
        ' noisy machine: each recording middleware called as Koa calls it, nothing else of a server.',
      `${count(sizes.recordOps)} requests per variant per round, ${sizes.rounds} counted rounds` +
        ' after 1 warm-up, interleaved (order rotated), gc() before each, one loop per variant' +
        ' (monomorphic call site); one child on the server core.',
      `Per request: a fake ctx of GET /api/v1/hosts/42 (method, path, state.entityType 'user',` +
        ` matched and _matchedRoute ${ROUTE}) with a fresh EventEmitter as res (statusCode 200,` +
        " headersSent), await mw(ctx, () => Promise.resolve()), then res.emit('finish') and" +
        " res.emit('close'), which is when the libraries record.",
      'scanopy-metrics = createMetrics({ token }).firstMiddleware(), what the preload installs;' +
        ' prom-client and otel-sdk = the middleware of the hot-path servers (bench/subjects);' +
        ' baseline = the same loop without a middleware.',
      'minus baseline = median over rounds of (round − same round of baseline);' +
        ' × prom-client compares those figures.',
      'Checked: http_requests_total and the duration histogram of each library counted every' +
        ` request recorded (${count(result.recorded['scanopy-metrics'])} each, warm-up included).`,
    ],
    columns: ['variant', 'ns/req', 'min', 'max', 'minus baseline', '× prom-client'],
    rows,
    goals: [
      {
        text: 'scanopy-metrics records a request for less than prom-client',
        measured: ratio(pkg),
        met: Number.isFinite(pkg) ? pkg < 1 : undefined,
      },
    ],
  };
}
