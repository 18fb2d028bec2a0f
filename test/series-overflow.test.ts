// A metric that reaches its cardinality limit cannot go unnoticed: one stderr line per metric,
// naming the metric, its limit and the settings that raise it, and a self-metric counting every
// recording that went to the overflow series.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  Instruments,
  overflowWarning,
  SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL,
} from '../src/collection/instruments';
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { sample } from './helpers/exposition';
import { TOKEN } from './helpers/metrics-app';
import { pollUntil } from './helpers/wait';

const NOW: [number, number] = [0, 0];

/** `scanopy_metrics_series_overflow_total` by metric, as collected. */
function overflowCounts(instruments: Instruments): Record<string, number> {
  const points = instruments.overflows.collect(NOW, NOW).dataPoints;
  return Object.fromEntries(points.map((p) => [String(p.attributes.metric), p.value]));
}

function warningText(
  metric: string,
  kind: 'counter' | 'histogram' | 'up_down_counter',
  limit: number,
): string {
  return (
    `scanopy-metrics: ${metric} reached its cardinality limit of ${limit} series; further label` +
    ` sets go to otel_metric_overflow="true" (raise meter_provider.readers[].pull.cardinality_limits.${kind}` +
    ` or a view's aggregation_cardinality_limit in otel-config.yaml, or createMetrics' cardinalityLimit)`
  );
}

describe('series overflow', () => {
  it('writes one line per metric that reaches its limit, with the exact text, and counts every overflowed recording', () => {
    const lines: string[] = [];
    const instruments = new Instruments({ cardinalityLimit: 3, warn: (line) => lines.push(line) });
    expect(overflowCounts(instruments)).to.deep.equal({
      http_requests_total: 0,
      http_request_duration_seconds: 0,
      scanopy_events_total: 0,
      http_requests_in_flight: 0,
      http_request_size_bytes: 0,
      http_response_size_bytes: 0,
    });
    const request = (method: string, path: string, status: string, n = 1): void => {
      for (let i = 0; i < n; i++) instruments.recordRequest(method, path, status, 'user', 0.01);
    };
    request('GET', '/a', '200', 2); // counter and histogram: series 1
    request('GET', '/b', '200'); // series 2: both are now full (2 + the overflow place)
    request('GET', '/c', '200', 4); // both overflow: 4
    request('POST', '/a', '200', 3); // both overflow: 7
    request('GET', '/a', '500'); // the counter overflows (8); (GET, /a) has its histogram series
    request('GET', '/a', '200'); // an existing label set still counts on its own
    for (let i = 0; i < 2; i++) instruments.recordEvent('Host', 'created');
    instruments.recordEvent('Host', 'deleted');
    for (let i = 0; i < 5; i++) instruments.recordEvent('Network', 'created');

    expect(lines).to.deep.equal([
      warningText('http_requests_total', 'counter', 3),
      warningText('http_request_duration_seconds', 'histogram', 3),
      warningText('scanopy_events_total', 'counter', 3),
    ]);
    expect(overflowWarning('http_requests_total', 'counter', 3)).to.equal(lines[0]);
    expect(overflowCounts(instruments)).to.deep.equal({
      http_requests_total: 8,
      http_request_duration_seconds: 7,
      scanopy_events_total: 5,
      http_requests_in_flight: 0,
      http_request_size_bytes: 0,
      http_response_size_bytes: 0,
    });
    // The overflow series took exactly those recordings; the others kept theirs.
    const counts = instruments.httpRequests.collect(NOW, NOW).dataPoints;
    expect(counts.map((p) => [p.attributes, p.value])).to.deep.equal([
      [{ method: 'GET', path: '/a', status: '200', entity_type: 'user' }, 3],
      [{ method: 'GET', path: '/b', status: '200', entity_type: 'user' }, 1],
      [{ 'otel.metric.overflow': true }, 8],
    ]);
    const durations = instruments.httpDuration.collect(NOW, NOW).dataPoints;
    expect(durations.map((p) => [p.attributes, p.value.count])).to.deep.equal([
      [{ method: 'GET', path: '/a' }, 4],
      [{ method: 'GET', path: '/b' }, 1],
      [{ 'otel.metric.overflow': true }, 7],
    ]);
  });

  it("names a metric's own limit when a view sets it", () => {
    const lines: string[] = [];
    const instruments = new Instruments({
      cardinalityLimit: 100,
      views: { http_request_duration_seconds: { cardinalityLimit: 2 } },
      warn: (line) => lines.push(line),
    });
    for (const path of ['/a', '/b', '/c']) instruments.recordRequest('GET', path, '200', 'user', 1);
    expect(lines).to.deep.equal([warningText('http_request_duration_seconds', 'histogram', 2)]);
    expect(overflowCounts(instruments)).to.deep.equal({
      http_requests_total: 0,
      http_request_duration_seconds: 2,
      scanopy_events_total: 0,
      http_requests_in_flight: 0,
      http_request_size_bytes: 0,
      http_response_size_bytes: 0,
    });
  });

  it('holds 20,000 series per metric by default: 19,999 label sets and the overflow series', () => {
    const lines: string[] = [];
    const instruments = new Instruments({ warn: (line) => lines.push(line) });
    for (let i = 0; i < 20_001; i++) instruments.recordRequest('GET', `/r/${i}`, '200', 'user', 1);
    const counts = instruments.httpRequests.collect(NOW, NOW).dataPoints;
    expect(counts).to.have.length(20_000);
    expect(counts[19_998].attributes.path).to.equal('/r/19998');
    expect(counts[19_999]).to.include({ value: 2 });
    expect(counts[19_999].attributes).to.deep.equal({ 'otel.metric.overflow': true });
    expect(lines).to.deep.equal([
      warningText('http_requests_total', 'counter', 20_000),
      warningText('http_request_duration_seconds', 'histogram', 20_000),
    ]);
    expect(overflowCounts(instruments)).to.deep.equal({
      http_requests_total: 2,
      http_request_duration_seconds: 2,
      scanopy_events_total: 0,
      http_requests_in_flight: 0,
      http_request_size_bytes: 0,
      http_response_size_bytes: 0,
    });
  });

  it('counts the overflowed recordings of the in-flight gauge and the size histograms, and the gauge comes back to 0 on the overflow series', () => {
    const lines: string[] = [];
    const instruments = new Instruments({ cardinalityLimit: 3, warn: (line) => lines.push(line) });
    // In flight: two label sets fit, the third and fourth go up on the overflow series.
    const arrived = [
      instruments.requestArrived('GET', 'user'),
      instruments.requestArrived('POST', 'user'),
      instruments.requestArrived('PUT', 'user'),
      instruments.requestArrived('PUT', 'daemon'),
      instruments.requestArrived('PUT', 'user'),
    ];
    const inFlight = () =>
      instruments.httpInFlight
        .collect(NOW, NOW)
        .dataPoints.map((p) => [p.attributes, p.value] as const);
    expect(inFlight()).to.deep.equal([
      [{ method: 'GET', entity_type: 'user' }, 1],
      [{ method: 'POST', entity_type: 'user' }, 1],
      [{ 'otel.metric.overflow': true }, 3],
    ]);
    for (const series of arrived) series.value--;
    expect(inFlight().map(([, value]) => value)).to.deep.equal([0, 0, 0]);
    // Sizes: two paths fit, every request on the others is counted once per histogram.
    for (const path of ['/a', '/b', '/c', '/d', '/c']) {
      const series = instruments.requestFinished('GET', path, '200', 'user', 0.01, 1000);
      instruments.recordRequestBody(series, 10);
    }
    expect(overflowCounts(instruments)).to.deep.equal({
      http_requests_total: 3,
      http_request_duration_seconds: 3,
      scanopy_events_total: 0,
      http_requests_in_flight: 3,
      http_request_size_bytes: 3,
      http_response_size_bytes: 3,
    });
    const sizes = instruments.httpResponseSize.collect(NOW, NOW).dataPoints;
    expect(sizes.map((p) => [p.attributes, p.value.count, p.value.sum])).to.deep.equal([
      [{ method: 'GET', path: '/a' }, 1, 1000],
      [{ method: 'GET', path: '/b' }, 1, 1000],
      [{ 'otel.metric.overflow': true }, 3, 3000],
    ]);
    expect(lines).to.deep.equal([
      warningText('http_requests_in_flight', 'up_down_counter', 3),
      warningText('http_requests_total', 'counter', 3),
      warningText('http_request_duration_seconds', 'histogram', 3),
      warningText('http_request_size_bytes', 'histogram', 3),
      warningText('http_response_size_bytes', 'histogram', 3),
    ]);
  });

  describe('in a preloaded service', () => {
    const children = new Children();
    afterEach(() => children.stopAll());

    it('writes the line on its stderr once and serves the self-metric', async () => {
      const dir = children.tempDir();
      const config = path.join(dir, 'otel-config.yaml');
      writeFileSync(
        config,
        [
          "file_format: '1.0'",
          'meter_provider:',
          '  readers:',
          '    - pull:',
          '        exporter:',
          '          prometheus/development: {}',
          '        cardinality_limits:',
          '          default: 3',
          '',
        ].join('\n'),
      );
      const service = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, OTEL_CONFIG_FILE: config },
        cwd: dir,
      });
      // One route, four caller kinds: two label sets fit, the others overflow (5 requests).
      for (const kind of ['user', 'daemon', 'api_key', 'system', 'system', 'system', 'api_key']) {
        const response = await fetch(`${service.url}/api/v1/hosts/1`, {
          headers: { 'x-entity-type': kind },
        });
        await response.text();
      }
      const line = warningText('http_requests_total', 'counter', 3);
      await pollUntil('the warning is on stderr', () =>
        Promise.resolve(service.stderr().includes(line)),
      );
      const scrape = async (): Promise<string> => {
        const response = await fetch(`${service.url}/metrics`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(response.status).to.equal(200);
        return response.text();
      };
      const first = await scrape();
      expect(
        sample(first, SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL, { metric: 'http_requests_total' }),
      ).to.equal(5);
      expect(
        sample(first, SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL, {
          metric: 'http_request_duration_seconds',
        }),
      ).to.equal(0);
      expect(sample(first, 'http_requests_total', { otel_metric_overflow: 'true' })).to.equal(5);
      // The scrape itself was counted once it was sent: a sixth overflowed request, no new line.
      const second = await scrape();
      expect(
        sample(second, SCANOPY_METRICS_SERIES_OVERFLOW_TOTAL, { metric: 'http_requests_total' }),
      ).to.equal(6);
      expect(service.stderrLines().filter((l) => l.includes('cardinality limit'))).to.deep.equal([
        line,
      ]);
    });
  });
});
