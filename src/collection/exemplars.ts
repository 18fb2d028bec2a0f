/**
 * Exemplars of the duration histogram: when the host service runs OpenTelemetry tracing (its own
 * tracer provider registered through @opentelemetry/api), each bucket of each series keeps the
 * trace of its latest sampled request, so that an operator can go from a latency spike to a trace.
 *
 * Whether a provider is registered is decided here, not per request: once at start, once after
 * the host's main module ran (it registers its provider after the preload), and at every scrape.
 * Without one, recording a request reads one boolean and nothing else, and @opentelemetry/api is not
 * even loaded: a provider is looked for in the API's global first.
 */
import { otelApi, registeredGlobal } from '../diagnostics/diag';
import type { Exemplar, HistogramSeries } from '../series/histogram';

/** The no-op provider of the API: what a proxy without a delegate hands out. */
let noopProvider: unknown;

/**
 * Whether the process has a tracer provider other than the API's no-op one. Duck-typed: the host's
 * copy of @opentelemetry/api registers its own proxy, of its own class, in the shared global.
 */
export function tracerRegistered(): boolean {
  if (registeredGlobal('trace') === undefined) return false;
  const { ProxyTracerProvider, trace } = otelApi();
  noopProvider ??= new ProxyTracerProvider().getDelegate();
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate === undefined || delegate === null || delegate === noopProvider) return false;
  return (
    (delegate as { constructor?: { name?: string } }).constructor?.name !== 'NoopTracerProvider'
  );
}

/**
 * Keeps the active span's trace as the exemplar of bucket `bucket` of `series`, if the span is
 * sampled. One object per bucket, allocated on its first exemplar and overwritten after.
 */
export function offerExemplar(series: HistogramSeries, bucket: number, value: number): void {
  const { context, trace, TraceFlags } = otelApi();
  const span = trace.getSpanContext(context.active());
  if (span === undefined || (span.traceFlags & TraceFlags.SAMPLED) === 0) return;
  const slots = (series.exemplars ??= new Array<Exemplar | undefined>(series.counts.length));
  const exemplar = slots[bucket];
  const timeMs = Date.now();
  if (exemplar === undefined) {
    slots[bucket] = { traceId: span.traceId, spanId: span.spanId, value, timeMs };
    return;
  }
  exemplar.traceId = span.traceId;
  exemplar.spanId = span.spanId;
  exemplar.value = value;
  exemplar.timeMs = timeMs;
}
