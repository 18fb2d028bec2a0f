// Goal 1, what recording one request costs: runs record-bench.ts in a child on the server core and
// makes its table, printed right after the hot path's.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import type { Sizes } from './options';
import { RECORD_VARIANTS, ROUTE, type RecordRequest, type RecordResult } from './record-bench';
import type { TracedResult } from './record-traced-bench';
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
  // With the host's tracing on: a child of its own, since a tracer provider is process-wide.
  const tracedChild = await Child.start({
    name: 'record benchmark with a tracer',
    module: path.join(__dirname, 'micro-child.js'),
    nodeArgs: ['--expose-gc'],
    cpu: SERVER_CPU,
  });
  let traced: TracedResult;
  try {
    traced = await tracedChild.call<TracedResult>('record-traced', {
      ops: sizes.recordOps,
      rounds: sizes.rounds,
    } satisfies RecordRequest);
  } finally {
    await tracedChild.stop();
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
  const tracedNet = median(
    traced.ns['scanopy-metrics in a span'].map((v, i) => v - traced.ns['baseline in a span'][i]),
  );
  for (const v of ['baseline in a span', 'scanopy-metrics in a span'] as const) {
    const s = summarize(traced.ns[v]);
    const isBaseline = v === 'baseline in a span';
    rows.push([
      `${v} (tracer registered)`,
      fixed(s.median, 0),
      fixed(s.min, 0),
      fixed(s.max, 0),
      isBaseline ? '-' : fixed(tracedNet, 0),
      isBaseline ? '-' : ratio(tracedNet / prom),
    ]);
  }
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
      'The last four rows are what each new metric costs: firstMiddleware with entity_type on the' +
        ' duration (opt-in), and the in-flight gauge (up on arrival, down on close), the request' +
        ' size (push wrapped, observed) and the response size (write/end wrapped, observed) alone;' +
        ' firstMiddleware (second row) has all of them on but entity_type, as by default. Every' +
        ' loop ends the fake response with a 61-byte JSON body.',
      'Checked: http_requests_total and the duration histogram of each library counted every' +
        ` request recorded (${count(result.recorded['scanopy-metrics'])} each, warm-up included).`,
      '(tracer registered) rows: another child with @opentelemetry/sdk-trace and an AsyncLocalStorage' +
        ' context manager registered, every request inside one sampled span; the package keeps' +
        ' an exemplar per bucket. minus baseline is against the baseline in the same span:' +
        ` the exemplar's cost is that row minus the package's untraced row (${
          traced.exemplar ? 'the exemplar was in the OpenMetrics scrape' : 'NO EXEMPLAR FOUND'
        }).`,
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
