// The three instruments as Prometheus sees them: names, types, buckets, exact lines, promtool.
import Router from '@koa/router';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { DEFAULT_BUCKETS } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { metricTypes, parseExposition, sample, series } from './helpers/exposition';
import { startMetricsApp, TOKEN } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';
import { checkMetrics } from './helpers/promtool';
import { overflowWarning } from '../src/collection/instruments';

/** The route's own metrics, last, without series in a scrape that is the first answer. */
const ROUTE_METRIC_HEADERS = [
  '# HELP scanopy_metrics_scrapes_total Answers of the metrics route, by HTTP status code',
  '# TYPE scanopy_metrics_scrapes_total counter',
  '# HELP scanopy_metrics_scrape_duration_seconds Time to produce a 200 answer of the metrics route, in seconds',
  '# UNIT scanopy_metrics_scrape_duration_seconds s',
  '# TYPE scanopy_metrics_scrape_duration_seconds histogram',
];

/** The lines from the `# HELP` of `first` up to the `# HELP` of `until` (or the end). */
function linesFrom(text: string, first: string, until?: string): string[] {
  const lines = text.trimEnd().split('\n');
  const start = lines.findIndex((line) => line.startsWith(`# HELP ${first} `));
  expect(start, `no # HELP ${first}`).to.not.equal(-1);
  const end = until === undefined ? -1 : lines.findIndex((l) => l.startsWith(`# HELP ${until} `));
  return lines.slice(start, end === -1 ? undefined : end);
}

describe('exposition', () => {
  let server: MetricsApp;
  afterEach(async () => server.close());

  it("has exactly the six metrics, the route's own two (and target_info, and the overflow self-metric), with their Prometheus types", async () => {
    server = await startMetricsApp();
    const text = await server.scrape();
    expect(metricTypes(text)).to.deep.equal({
      target_info: 'gauge',
      http_requests_total: 'counter',
      http_request_duration_seconds: 'histogram',
      scanopy_events_total: 'counter',
      http_requests_in_flight: 'gauge',
      http_request_size_bytes: 'histogram',
      http_response_size_bytes: 'histogram',
      scanopy_metrics_series_overflow_total: 'counter',
      scanopy_metrics_scrapes_total: 'counter',
      scanopy_metrics_scrape_duration_seconds: 'histogram',
    });
    expect(text).to.contain('# HELP http_requests_total Total number of HTTP requests\n');
    expect(text).to.contain(
      '# HELP http_request_duration_seconds HTTP request duration in seconds\n',
    );
    expect(text).to.contain(
      '# HELP scanopy_events_total Total number of events published on the event bus\n',
    );
  });

  it('writes the exact lines: no doubled _total, no second unit suffix, cumulative buckets', async () => {
    server = await startMetricsApp();
    const { instruments } = server.metrics.pipeline;
    const durations = [0.003, 0.005, 0.07, 0.3, 12];
    for (const seconds of durations) {
      instruments.recordRequest('GET', '/api/v1/hosts', '200', 'user', seconds);
    }
    instruments.recordRequest('POST', '/api/v1/hosts', '201', 'api_key', 0.01);
    server.metrics.recordEvent({ kind: 'entity', entityType: 'Host', operation: 'created' });
    server.metrics.recordEvent({ kind: 'entity', entityType: 'Host', operation: 'created' });
    server.metrics.recordEvent({ kind: 'auth', operation: 'login_failed' });

    const text = await server.scrape();
    const sum = durations.reduce((a, b) => a + b, 0);
    const get = (le: string, n: number) =>
      `http_request_duration_seconds_bucket{method="GET",path="/api/v1/hosts",le="${le}"} ${n}`;
    const post = (le: string, n: number) =>
      `http_request_duration_seconds_bucket{method="POST",path="/api/v1/hosts",le="${le}"} ${n}`;
    expect(linesFrom(text, 'http_requests_total')).to.deep.equal([
      '# HELP http_requests_total Total number of HTTP requests',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="GET",path="/api/v1/hosts",status="200",entity_type="user"} 5',
      'http_requests_total{method="POST",path="/api/v1/hosts",status="201",entity_type="api_key"} 1',
      '# HELP http_request_duration_seconds HTTP request duration in seconds',
      '# UNIT http_request_duration_seconds s',
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_count{method="GET",path="/api/v1/hosts"} 5',
      `http_request_duration_seconds_sum{method="GET",path="/api/v1/hosts"} ${sum}`,
      get('0.005', 2),
      get('0.01', 2),
      get('0.025', 2),
      get('0.05', 2),
      get('0.1', 3),
      get('0.25', 3),
      get('0.5', 4),
      get('1', 4),
      get('2.5', 4),
      get('5', 4),
      get('10', 4),
      get('+Inf', 5),
      'http_request_duration_seconds_count{method="POST",path="/api/v1/hosts"} 1',
      'http_request_duration_seconds_sum{method="POST",path="/api/v1/hosts"} 0.01',
      post('0.005', 0),
      post('0.01', 1),
      post('0.025', 1),
      post('0.05', 1),
      post('0.1', 1),
      post('0.25', 1),
      post('0.5', 1),
      post('1', 1),
      post('2.5', 1),
      post('5', 1),
      post('10', 1),
      post('+Inf', 1),
      '# HELP scanopy_events_total Total number of events published on the event bus',
      '# TYPE scanopy_events_total counter',
      'scanopy_events_total{entity="Host",operation="created"} 2',
      'scanopy_events_total{entity="auth",operation="login_failed"} 1',
      '# HELP http_requests_in_flight Number of HTTP requests in flight',
      '# TYPE http_requests_in_flight gauge',
      // The scrape itself is in flight while it is written; the sizes are recorded by the
      // middleware only, once a request is done: none yet.
      'http_requests_in_flight{method="GET",entity_type="anonymous"} 1',
      '# HELP http_request_size_bytes HTTP request body size in bytes',
      '# UNIT http_request_size_bytes By',
      '# TYPE http_request_size_bytes histogram',
      '# HELP http_response_size_bytes HTTP response body size in bytes',
      '# UNIT http_response_size_bytes By',
      '# TYPE http_response_size_bytes histogram',
      "# HELP scanopy_metrics_series_overflow_total Recordings that went to a metric's otel_metric_overflow series, by metric",
      '# TYPE scanopy_metrics_series_overflow_total counter',
      'scanopy_metrics_series_overflow_total{metric="http_requests_total"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_request_duration_seconds"} 0',
      'scanopy_metrics_series_overflow_total{metric="scanopy_events_total"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_requests_in_flight"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_request_size_bytes"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_response_size_bytes"} 0',
      ...ROUTE_METRIC_HEADERS,
    ]);
  });

  it('has the default buckets 0.005 … 10 and +Inf, exactly', async () => {
    server = await startMetricsApp();
    server.metrics.pipeline.instruments.recordRequest('GET', '/a', '200', 'user', 0.2);
    const text = await server.scrape();
    const les = series(text, 'http_request_duration_seconds_bucket').map((s) => s.labels.le);
    expect(les).to.deep.equal([...DEFAULT_BUCKETS.map(String), '+Inf']);
    expect(les).to.deep.equal([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
  });

  it('writes escaped label values that read back unchanged', async () => {
    const odd = 'Wei"rd\\Ent\nity';
    server = await startMetricsApp(undefined, { token: TOKEN, events: { entities: [odd] } });
    server.metrics.recordEvent({ kind: 'entity', entityType: odd, operation: 'deleted' });
    const text = await server.scrape();
    expect(text).to.contain(
      'scanopy_events_total{entity="Wei\\"rd\\\\Ent\\nity",operation="deleted"} 1\n',
    );
    expect(sample(text, 'scanopy_events_total', { entity: odd, operation: 'deleted' })).to.equal(1);
    expect(await checkMetrics(text)).to.deep.equal({ code: 0, output: '' });
  });

  it('passes promtool check metrics on a scrape after real traffic', async () => {
    server = await startMetricsApp((app) => {
      const router = new Router({ prefix: '/api/v1' });
      router.get('/hosts/:id', (ctx) => {
        ctx.state.entityType = 'user';
        ctx.body = { id: ctx.params.id };
      });
      app.use(router.routes());
    });
    for (const path of ['/api/v1/hosts/1', '/api/v1/hosts/2', '/nowhere']) {
      const response = await fetch(server.url + path);
      await response.arrayBuffer();
    }
    server.metrics.recordEvent({ kind: 'entity', entityType: 'Host', operation: 'updated' });
    server.metrics.recordEvent({ kind: 'telemetry', operation: 'org_created' });
    server.metrics.recordEvent({ kind: 'entity', operation: 'created' });
    await server.scrape(); // so that the next one holds path="/metrics" too
    const text = await server.scrape();
    expect(series(text, 'http_requests_total')).to.have.length(3);
    expect(series(text, 'scanopy_events_total')).to.have.length(3);
    expect(await checkMetrics(text)).to.deep.equal({ code: 0, output: '' });
  });

  it('writes the overflow series once the cardinality limit is reached, and promtool accepts it', async () => {
    const warnings: string[] = [];
    server = await startMetricsApp(undefined, {
      token: TOKEN,
      cardinalityLimit: 3,
      warn: (line) => warnings.push(line),
    });
    for (const entityType of ['Host', 'Network', 'Subnet', 'Service', 'Port']) {
      server.metrics.recordEvent({ kind: 'entity', entityType, operation: 'created' });
    }
    const text = await server.scrape();
    expect(
      linesFrom(text, 'scanopy_events_total', 'http_requests_in_flight').slice(2),
    ).to.deep.equal([
      'scanopy_events_total{entity="Host",operation="created"} 1',
      'scanopy_events_total{entity="Network",operation="created"} 1',
      'scanopy_events_total{otel_metric_overflow="true"} 3',
    ]);
    expect(linesFrom(text, 'scanopy_metrics_series_overflow_total').slice(2)).to.deep.equal([
      'scanopy_metrics_series_overflow_total{metric="http_requests_total"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_request_duration_seconds"} 0',
      'scanopy_metrics_series_overflow_total{metric="scanopy_events_total"} 3',
      'scanopy_metrics_series_overflow_total{metric="http_requests_in_flight"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_request_size_bytes"} 0',
      'scanopy_metrics_series_overflow_total{metric="http_response_size_bytes"} 0',
      ...ROUTE_METRIC_HEADERS,
    ]);
    expect(warnings).to.deep.equal([overflowWarning('scanopy_events_total', 'counter', 3)]);
    expect(await checkMetrics(text)).to.deep.equal({ code: 0, output: '' });
  });

  it('applies views: attribute keys merge series, boundaries replace the buckets', async () => {
    server = await startMetricsApp(undefined, {
      token: TOKEN,
      views: {
        http_requests_total: { attributeKeys: ['method', 'status'] },
        http_request_duration_seconds: { boundaries: [0.1, 1] },
      },
    });
    const { instruments } = server.metrics.pipeline;
    instruments.recordRequest('GET', '/a', '200', 'user', 0.1);
    instruments.recordRequest('GET', '/b', '200', 'daemon', 0.5);
    instruments.recordRequest('GET', '/b', '404', 'daemon', 5);
    const text = await server.scrape();
    expect(series(text, 'http_requests_total')).to.deep.equal([
      { name: 'http_requests_total', labels: { method: 'GET', status: '200' }, value: 2 },
      { name: 'http_requests_total', labels: { method: 'GET', status: '404' }, value: 1 },
    ]);
    expect(
      series(text, 'http_request_duration_seconds_bucket').map((s) => [
        s.labels.path,
        s.labels.le,
        s.value,
      ]),
    ).to.deep.equal([
      ['/a', '0.1', 1],
      ['/a', '1', 1],
      ['/a', '+Inf', 1],
      ['/b', '0.1', 0],
      ['/b', '1', 1],
      ['/b', '+Inf', 2],
    ]);
  });

  it("uses the package's own MeterProvider, never the global one", async () => {
    server = await startMetricsApp();
    expect(otelMetrics.getMeterProvider()).to.not.equal(server.metrics.pipeline.meterProvider);
    const text = await server.scrape();
    // Nothing from the package carries OTel scope labels.
    for (const s of parseExposition(text)) {
      expect(Object.keys(s.labels).filter((k) => k.startsWith('otel_scope'))).to.deep.equal([]);
    }
  });
});
