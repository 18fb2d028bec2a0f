// Exemplars of the duration histogram, in process with a real tracer provider and context manager
// registered through @opentelemetry/api: a sampled request leaves its trace on the bucket it fell
// in (one per bucket and series, the latest), an unsampled one leaves none, the text format never
// carries them, and without a tracer provider nothing is kept at all.
import { context, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { pythonParse } from './helpers/python-parser';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0';
const ROUTE = '/api/v1/hosts/:id';

/** Records one request of `seconds` as if it ran inside a span of `span`. */
function recordIn(metrics: ScanopyMetrics, span: SpanContext | undefined, seconds: number): void {
  const record = (): void =>
    metrics.pipeline.instruments.recordRequest('GET', ROUTE, '200', 'user', seconds);
  if (span === undefined) record();
  else context.with(trace.setSpanContext(context.active(), span), record);
}

function spanContext(traceId: string, spanId: string, sampled: boolean): SpanContext {
  return { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
}

/** The bucket lines of the route's duration series, as written. */
function bucketLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes(ROUTE));
}

const A = spanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', true);
const B = spanContext('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', true);
const UNSAMPLED = spanContext('5b8aa5a2d2c872e8321cf37308d69df2', '051581bf3cb55c13', false);

describe('exemplars of the duration histogram', () => {
  describe('with a tracer provider registered', () => {
    let contextManager: AsyncLocalStorageContextManager;
    before(() => {
      contextManager = new AsyncLocalStorageContextManager().enable();
      expect(context.setGlobalContextManager(contextManager)).to.equal(true);
      expect(trace.setGlobalTracerProvider(new TracerProvider())).to.equal(true);
    });
    after(() => {
      trace.disable();
      context.disable();
    });

    it('a sampled request leaves its trace on its bucket: one per bucket and series, the latest', async () => {
      const metrics = createMetrics({ token: 't' });
      const before = Date.now() / 1000;
      recordIn(metrics, A, 0.003); // le=0.005
      recordIn(metrics, B, 0.004); // le=0.005 again: B replaces A
      recordIn(metrics, A, 0.3); // le=0.5
      recordIn(metrics, UNSAMPLED, 0.04); // le=0.05: not sampled, no exemplar
      recordIn(metrics, undefined, 20); // +Inf, outside any span: no exemplar
      const after = Date.now() / 1000;
      const text = await metrics.scrape(OPENMETRICS);
      const lines = bucketLines(text);
      const withExemplar = lines.filter((l) => l.includes(' # {'));
      expect(withExemplar).to.have.length(2);
      const at = (le: string): string => lines.find((l) => l.includes(`le="${le}"`)) ?? '';
      const exemplar =
        /^http_request_duration_seconds_bucket\{.*\} (\d+) # \{trace_id="([0-9a-f]+)",span_id="([0-9a-f]+)"\} ([0-9.e-]+) ([0-9.]+)$/;
      const small = exemplar.exec(at('0.005'));
      expect(small?.slice(1, 5)).to.deep.equal(['2', B.traceId, B.spanId, '0.004']);
      const large = exemplar.exec(at('0.5'));
      expect(large?.slice(1, 5)).to.deep.equal(['4', A.traceId, A.spanId, '0.3']);
      for (const match of [small, large]) {
        const seconds = Number(match?.[5]);
        expect(seconds).to.be.within(Math.floor(before * 1000) / 1000, after + 0.001);
      }
      expect(at('0.05')).to.equal(
        `http_request_duration_seconds_bucket{method="GET",path="${ROUTE}",le="0.05"} 3`,
      );
      expect(at('+Inf')).to.equal(
        `http_request_duration_seconds_bucket{method="GET",path="${ROUTE}",le="+Inf"} 5`,
      );
      // Python's strict OpenMetrics parser reads the exemplars as exemplars.
      const families = await pythonParse(text, 'openmetrics');
      const duration = families.find((f) => f.name === 'http_request_duration_seconds');
      const parsed = (duration?.samples ?? [])
        .filter((s) => s.labels.path === ROUTE && s.exemplar !== null)
        .map((s) => [s.labels.le, s.exemplar?.labels.trace_id, s.exemplar?.value]);
      expect(parsed).to.have.deep.members([
        ['0.005', B.traceId, 0.004],
        ['0.5', A.traceId, 0.3],
      ]);
      // The text format has no exemplars.
      const plain = await metrics.scrape();
      expect(plain).not.to.contain('trace_id');
      await metrics.shutdown();
    });
  });

  it('without a tracer provider, keeps nothing (no exemplar slots), even inside a span context', async () => {
    const metrics = createMetrics({ token: 't' });
    // A span context in the context, but no provider: the API's no-op tracing.
    recordIn(metrics, A, 0.003);
    const series = metrics.pipeline.instruments.httpDuration.seriesOf('GET', ROUTE);
    expect(series.count).to.equal(1);
    expect(series.exemplars).to.equal(undefined);
    const text = await metrics.scrape(OPENMETRICS);
    expect(text).not.to.contain('trace_id');
    await metrics.shutdown();
  });
});
