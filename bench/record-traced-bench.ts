// Goal 1, what recording one request costs when the host runs OpenTelemetry tracing: the same
// loop as record-bench.ts, in a child of its own (a registered tracer provider is process-wide and
// would change the other libraries' figures), with the host's tracer provider
// (@opentelemetry/sdk-trace) and context manager registered and every request inside a sampled span, as instrumentation-http
// leaves it. The package then keeps an exemplar per bucket: the cost of that is this table's row.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createMetrics } from 'scanopy-metrics';
import { gc } from './rpc';
import { fakeContext, next, respond, ROUTE, sampleValue, type RecordRequest } from './record-bench';
import { rotate } from './stats';

export const TRACED_VARIANTS = ['baseline in a span', 'scanopy-metrics in a span'] as const;
export type TracedVariant = (typeof TRACED_VARIANTS)[number];

export interface TracedResult {
  ns: Record<TracedVariant, number[]>;
  /** Whether the exposition carried an exemplar of the span's trace (OpenMetrics). */
  exemplar: boolean;
}

export async function runRecordTraced(request: RecordRequest): Promise<TracedResult> {
  const { ops, rounds } = request;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new TracerProvider();
  trace.setGlobalTracerProvider(provider);
  const span = provider.getTracer('bench').startSpan('GET /api/v1/hosts/:id');
  const inSpan = trace.setSpan(context.active(), span);
  const metrics = createMetrics({ token: 't' });
  const pkg = metrics.firstMiddleware();

  const loops: Record<TracedVariant, (n: number) => Promise<void>> = {
    'baseline in a span': (n) =>
      context.with(inSpan, async () => {
        for (let i = 0; i < n; i++) {
          const { res } = fakeContext();
          await next();
          respond(res);
        }
      }),
    'scanopy-metrics in a span': (n) =>
      context.with(inSpan, async () => {
        for (let i = 0; i < n; i++) {
          const { ctx, res } = fakeContext();
          await pkg(ctx, next);
          respond(res);
        }
      }),
  };
  const ns = { 'baseline in a span': [], 'scanopy-metrics in a span': [] } as Record<
    TracedVariant,
    number[]
  >;
  let recorded = 0;
  for (let round = 0; round <= rounds; round++) {
    for (const variant of rotate(TRACED_VARIANTS, round)) {
      gc();
      const start = process.hrtime.bigint();
      await loops[variant](ops);
      const elapsed = Number(process.hrtime.bigint() - start);
      if (variant === 'scanopy-metrics in a span') recorded += ops;
      if (round > 0) ns[variant].push(elapsed / ops);
    }
  }
  const om = await metrics.scrape('application/openmetrics-text;version=1.0.0');
  const counted = sampleValue(om, 'http_requests_total', { path: ROUTE });
  if (counted !== recorded) {
    throw new Error(`scanopy-metrics counted ${counted} of ${recorded} requests in a span`);
  }
  const exemplar = om.includes(`trace_id="${span.spanContext().traceId}"`);
  span.end();
  await metrics.shutdown();
  return { ns, exemplar };
}
