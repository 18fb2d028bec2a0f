// The package's text format 0.0.4 is byte for byte what OTel's PrometheusSerializer writes for the
// same data (over generated label values: quotes, backslashes, new lines, non-ASCII), for the
// package's own metrics (written straight from their series) and for SDK instruments alike,
// wherever PrometheusSerializer writes what Prometheus accepts; and reusing the output buffer
// between scrapes never changes bytes a caller still holds.
//
// Where PrometheusSerializer's text is rejected by Prometheus, the package deliberately writes
// otherwise (names.test.ts): a label name with a leading digit (`0digit`, which PrometheusSerializer
// writes as it is, failing the whole scrape) gets a `_` prefix, and attribute keys that name the
// same label (`a.b` and `a_b`, which PrometheusSerializer writes twice) are merged into one. The
// generated attribute keys below leave out exactly those cases.
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import fc from 'fast-check';

import { AggregationType } from '@opentelemetry/sdk-metrics';

import { MetricsPipeline } from '../src/collection/pipeline';
import { sanitize } from '../src/exposition/names';
import { PrometheusTextSerializer } from '../src/exposition/serializer';
import { expect } from './helpers/chai';

const labelValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"', '\\', '\n', '\\n', '"quoted"', 'a\\"b', 'é', '🔑', '', ' ', '{}', ',', '='),
);

/** PrometheusSerializer's label name for a key: its sanitizing, without the leading-digit fix. */
const otelLabelName = (key: string): string =>
  key.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');

/**
 * Attribute keys whose label names Prometheus accepts as PrometheusSerializer writes them: no
 * leading digit, no two keys naming one label, none naming a scope label.
 */
const acceptedKeys = (attributes: Record<string, unknown>): boolean => {
  const names = Object.keys(attributes).map(otelLabelName);
  return (
    names.every((n) => sanitize(n) === n && !n.startsWith('otel_scope_')) &&
    new Set(names).size === names.length
  );
};

const attributeValue = fc.oneof(
  labelValue,
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
);

/** What OTel's own serializer writes for the pipeline's full collection. */
async function reference(pipeline: MetricsPipeline, withoutScopeInfo: boolean): Promise<string> {
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, withoutScopeInfo);
  return serializer.serialize(await pipeline.collect());
}

async function scrapeText(pipeline: MetricsPipeline): Promise<string> {
  const exposition = await pipeline.scrape();
  const text = exposition.bytes.toString('utf8');
  exposition.release();
  return text;
}

describe('PrometheusTextSerializer against PrometheusSerializer', () => {
  for (const withoutScopeInfo of [true, false]) {
    it(`writes the same bytes over generated data (scope labels ${withoutScopeInfo ? 'off' : 'on'})`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              method: labelValue,
              path: labelValue,
              status: labelValue,
              entity: labelValue,
              seconds: fc.double({ min: 0, max: 100, noNaN: true }),
              // The request's size and its response's; in flight: arrived, not finished.
              bytes: fc.tuple(fc.nat({ max: 20_000_000 }), fc.nat({ max: 20_000_000 })),
              inFlight: fc.boolean(),
            }),
            { maxLength: 20 },
          ),
          fc.boolean(),
          fc.array(fc.tuple(labelValue, labelValue), { maxLength: 10 }),
          fc.array(
            fc.record({
              attributes: fc
                .dictionary(fc.string({ minLength: 1, maxLength: 8 }), attributeValue, {
                  maxKeys: 4,
                })
                .filter(acceptedKeys),
              value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
            }),
            { maxLength: 10 },
          ),
          async (requests, durationEntityType, events, sdkRecords) => {
            const pipeline = new MetricsPipeline({
              withoutScopeInfo,
              durationEntityType,
              resourceAttributes: { 'service.name': 'svc "quoted" \\ é\n' },
            });
            try {
              for (const r of requests) {
                const { instruments } = pipeline;
                instruments.recordRequest(r.method, r.path, r.status, r.entity, r.seconds);
                // The gauge, and the size histograms with their own buckets.
                const inFlight = instruments.requestArrived(r.method, r.entity);
                if (r.inFlight) continue;
                inFlight.value--;
                const [received, sent] = r.bytes;
                const finished = instruments.requestFinished(
                  r.method,
                  r.path,
                  r.status,
                  r.entity,
                  r.seconds,
                  sent,
                );
                instruments.recordRequestBody(finished, received);
              }
              for (const [entity, operation] of events) {
                pipeline.instruments.recordEvent(entity, operation);
              }
              const meter = pipeline.meterProvider.getMeter('other.library', '1.2.3');
              const histogram = meter.createHistogram('other.duration', { unit: 'ms' });
              const upDown = meter.createUpDownCounter('other_inflight', {
                description: 'a\\b\nc',
              });
              const counter = meter.createCounter('9lives');
              for (const { attributes, value } of sdkRecords) {
                histogram.record(Math.abs(value), attributes);
                upDown.add(value, attributes);
                counter.add(Math.abs(value), attributes);
              }
              // Nothing is recorded between the two, so both see the same data.
              const ours = await scrapeText(pipeline);
              expect(ours).to.equal(await reference(pipeline, withoutScopeInfo));
            } finally {
              await pipeline.shutdown();
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('writes the same bytes for a histogram view with an explicit Infinity boundary', async () => {
    const pipeline = new MetricsPipeline({
      sdkViews: [
        {
          instrumentName: 'bounded',
          aggregation: {
            type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
            options: { boundaries: [1, Infinity] },
          },
        },
      ],
    });
    try {
      const histogram = pipeline.meterProvider.getMeter('m').createHistogram('bounded');
      for (const v of [0.5, 2, 1e9]) histogram.record(v, { k: 'v' });
      expect(await scrapeText(pipeline)).to.equal(await reference(pipeline, true));
    } finally {
      await pipeline.shutdown();
    }
  });

  it('writes "# no registered metrics" exactly as PrometheusSerializer when there is nothing', async () => {
    const pipeline = new MetricsPipeline();
    try {
      // The package's three metrics always have a header, so the comment never shows in practice;
      // compare on a collection of the SDK's instruments alone.
      const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
      const empty = { resource: pipeline.resource, scopeMetrics: [] };
      const ours = await new PrometheusTextSerializer({ withoutScopeInfo: true }).serialize(empty);
      expect(ours.bytes.toString('utf8')).to.equal(serializer.serialize(empty));
    } finally {
      await pipeline.shutdown();
    }
  });
});

describe('MetricsPipeline.scrape buffer reuse', () => {
  it('never changes the bytes a caller still holds, and writes the next scrape right', async () => {
    const pipeline = new MetricsPipeline();
    try {
      pipeline.instruments.recordRequest('GET', '/a', '200', 'user', 0.01);
      const held = await pipeline.scrape();
      const heldText = held.bytes.toString('utf8');

      // Longer values while the first is held: a new buffer must be used.
      for (let i = 0; i < 1000; i++)
        pipeline.instruments.recordRequest('GET', '/a', '200', 'user', 1);
      const second = await pipeline.scrape();
      expect(held.bytes.toString('utf8')).to.equal(heldText);
      const secondText = second.bytes.toString('utf8');
      expect(secondText).to.contain(
        'http_requests_total{method="GET",path="/a",status="200",entity_type="user"} 1001\n',
      );

      // Released: the next scrape may write into the first buffer; the second is still held.
      held.release();
      held.release(); // twice is harmless
      pipeline.instruments.recordRequest('GET', '/b', '404', 'anonymous', 0.2);
      const third = await pipeline.scrape();
      expect(second.bytes.toString('utf8')).to.equal(secondText);
      const thirdText = third.bytes.toString('utf8');
      expect(thirdText).to.equal(await reference(pipeline, true));
      second.release();
      third.release();

      // A shorter text after a longer one leaves nothing of the longer behind.
      const fourth = await pipeline.scrape();
      expect(fourth.bytes.toString('utf8')).to.equal(thirdText);
      fourth.release();
    } finally {
      await pipeline.shutdown();
    }
  });

  it('gives concurrent callers the same bytes from one collection', async () => {
    const pipeline = new MetricsPipeline();
    try {
      for (let i = 0; i < 500; i++) {
        pipeline.instruments.recordRequest('GET', `/r/${i}`, '200', 'user', 0.01);
      }
      let collections = 0;
      const collect = pipeline.reader.collect.bind(pipeline.reader);
      pipeline.reader.collect = (options) => {
        collections++;
        return collect(options);
      };
      const all = await Promise.all([1, 2, 3, 4, 5].map(() => pipeline.scrape()));
      expect(collections).to.equal(1);
      expect(new Set(all.map((e) => e.bytes))).to.have.property('size', 1);
      for (const e of all) e.release();
      expect(all[0].bytes.toString('utf8')).to.equal(await reference(pipeline, true));
    } finally {
      await pipeline.shutdown();
    }
  });
});
