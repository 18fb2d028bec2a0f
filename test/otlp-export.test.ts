// OTLP push (issue 10, item 4): OTEL_METRICS_EXPORTER=otlp with OTel's own exporters, both
// protocols, headers, gzip, delta temporality, the file's periodic reader, the final export at
// SIGTERM, and a receiver that is down or hangs. A receiver in the test decodes what arrives with
// OpenTelemetry's OTLP definitions.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { rawRequest } from './helpers/http';
import {
  OtlpReceiver,
  attributes,
  metricsOf,
  sumValue,
  type ExportRequest,
} from './helpers/otlp-receiver';
import { freePort, waitUntil } from './helpers/prometheus-server';
import { TOKEN } from './helpers/preloaded-service';

const HOSTS = { method: 'GET', path: '/api/v1/hosts/:id', status: '200' };

const REPEATED = / \(seen (\d+) times; a repeated line is written at the 2nd, 4th, 8th… time\)$/;

/** Diagnostic lines by shape (digits as #), each with the occurrence it says it is (1 if none). */
function repeatCounts(lines: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const line of lines) {
    const match = REPEATED.exec(line);
    const shape = (match ? line.slice(0, match.index) : line).replace(/\d+/g, '#');
    groups.set(shape, [...(groups.get(shape) ?? []), match ? Number(match[1]) : 1]);
  }
  return groups;
}
const CREATED = { entity: 'Host', operation: 'created' };

describe('OTLP push (OTEL_METRICS_EXPORTER=otlp)', function () {
  this.timeout(60_000);
  const children = new Children();
  let receiver: OtlpReceiver;
  let url: string;
  beforeEach(async () => {
    receiver = new OtlpReceiver();
    url = await receiver.start();
  });
  afterEach(async () => {
    await children.stopAll();
    await receiver.stop();
  });

  const start = (env: Record<string, string>, cwd?: string) =>
    children.start({ fixture: fixture('service.cjs'), nodeArgs: REQUIRE_PRELOAD, env, cwd });

  const traffic = async (service: { url: string }, requests: number, events: number) => {
    for (let i = 0; i < requests; i++)
      await rawRequest(service.url, { path: `/api/v1/hosts/${i}` });
    if (events > 0) await rawRequest(service.url, { method: 'POST', path: `/publish?n=${events}` });
  };

  /** The first export received that satisfies `ok`. */
  const exported = (what: string, ok: (r: ExportRequest) => boolean) =>
    waitUntil(what, () => Promise.resolve(receiver.received.find((r) => ok(r.request))));

  it('http/protobuf: exact values, the configured headers, the resource; the route is off', async () => {
    const service = await start({
      SCANOPY_METRICS_TOKEN: TOKEN,
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret-4c1d,x-tenant=scanopy',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_SERVICE_NAME: 'hosts-api',
    });
    await traffic(service, 3, 2);
    const got = await exported(
      'an export with 3 requests and 2 events',
      (r) =>
        sumValue(r, 'http_requests_total', HOSTS) === 3 &&
        sumValue(r, 'scanopy_events_total', CREATED) === 2,
    );
    expect(got.contentType).to.equal('application/x-protobuf');
    expect(got.headers['x-api-key']).to.equal('secret-4c1d');
    expect(got.headers['x-tenant']).to.equal('scanopy');
    const resource = attributes(got.request.resourceMetrics?.[0].resource?.attributes);
    expect(resource['service.name']).to.equal('hosts-api');
    expect(resource['service.instance.id']).to.match(/^[0-9a-f-]{36}$/);
    const duration = metricsOf(got.request).get('http_request_duration_seconds');
    const point = duration?.histogram?.dataPoints?.[0];
    expect(point?.count).to.equal(3);
    expect(point?.explicitBounds).to.deep.equal([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
    expect(duration?.histogram?.aggregationTemporality).to.equal(
      'AGGREGATION_TEMPORALITY_CUMULATIVE',
    );
    // `otlp` alone: no prometheus exporter, /metrics is the service's path like any other.
    const scrape = await rawRequest(service.url, {
      path: '/metrics',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(scrape.status).to.equal(404);
    expect(scrape.body).to.equal('Not Found');
  });

  it('http/json, gzip, delta temporality: each export holds what happened since the previous one', async () => {
    const service = await start({
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      SCANOPY_METRICS_TOKEN: TOKEN,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    // Each export holds what happened since the previous one: they add up to what was sent.
    const sent = () =>
      receiver.received.reduce(
        (sum, r) => sum + (sumValue(r.request, 'http_requests_total', HOSTS) ?? 0),
        0,
      );
    await traffic(service, 3, 0);
    await waitUntil('exports adding up to 3', () => Promise.resolve(sent() === 3 || undefined));
    const first = receiver.received.find(
      (r) => sumValue(r.request, 'http_requests_total', HOSTS) !== undefined,
    );
    expect(first?.contentType).to.equal('application/json');
    expect(first?.contentEncoding).to.equal('gzip');
    expect(
      metricsOf(first!.request).get('http_requests_total')?.sum?.aggregationTemporality,
    ).to.equal('AGGREGATION_TEMPORALITY_DELTA');
    await traffic(service, 2, 0);
    await waitUntil('exports adding up to 5', () => Promise.resolve(sent() === 5 || undefined));
    // Later exports without traffic hold zeros, never the running total again.
    const settled = receiver.received.length;
    await waitUntil('two more exports', () =>
      Promise.resolve(receiver.received.length >= settled + 2 || undefined),
    );
    expect(sent()).to.equal(5);
    // With prometheus listed too, the route still answers, cumulative.
    const scrape = await rawRequest(service.url, {
      path: '/metrics',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(scrape.status).to.equal(200);
  });

  it("otel-config.yaml's periodic reader with an otlp_http exporter", async () => {
    const cwd = children.tempDir();
    writeFileSync(
      path.join(cwd, 'otel-config.yaml'),
      `file_format: '1.0'
meter_provider:
  readers:
    - periodic:
        interval: 300
        exporter:
          otlp_http:
            endpoint: ${url}/v1/metrics
            encoding: json
            headers:
              - name: x-api-key
                value: from-the-file
`,
    );
    const service = await start({}, cwd);
    await traffic(service, 4, 1);
    const got = await exported(
      'an export with 4 requests and 1 event',
      (r) =>
        sumValue(r, 'http_requests_total', HOSTS) === 4 &&
        sumValue(r, 'scanopy_events_total', CREATED) === 1,
    );
    expect(got.contentType).to.equal('application/json');
    expect(got.headers['x-api-key']).to.equal('from-the-file');
  });

  it('exports once more at SIGTERM, so the last increments are not lost', async () => {
    const service = await start({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      // No periodic export happens during the test.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    await traffic(service, 5, 3);
    expect(receiver.received).to.have.length(0);
    const exit = await service.stop();
    expect(exit.signal === 'SIGTERM' || exit.code === 0, JSON.stringify(exit)).to.equal(true);
    expect(receiver.received).to.have.length(1);
    const request = receiver.received[0].request;
    expect(sumValue(request, 'http_requests_total', HOSTS)).to.equal(5);
    expect(sumValue(request, 'scanopy_events_total', CREATED)).to.equal(3);
  });

  it("a receiver that is down or hangs: the service answers, logs one line, and OTel's notes only at powers of two", async () => {
    const closed = await freePort();
    const down = await start({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`,
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    receiver.hang = true;
    const hanging = await start({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_TIMEOUT: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    // Many export intervals pass while the services answer requests.
    for (let round = 0; round < 20; round++) {
      for (const service of [down, hanging]) {
        const res = await rawRequest(service.url, { path: `/api/v1/hosts/${round}` });
        expect(res.status).to.equal(200);
      }
    }
    await waitUntil('the failure line of the service whose receiver is down', () =>
      Promise.resolve(
        down.stderrLines().some((line) => line.startsWith('scanopy-metrics: ')) ? true : undefined,
      ),
    );
    for (const service of [down, hanging]) {
      const lines = service.stderrLines();
      const own = lines.filter((line) => line.startsWith('scanopy-metrics: '));
      expect(own.length, lines.join('\n')).to.be.at.most(1);
      for (const line of own) {
        expect(line).to.match(
          /^scanopy-metrics: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed \(.+\); further failures are not logged until an export succeeds$/,
        );
      }
      // OpenTelemetry's own notes (its exporter's, at each failed export), on stderr as every
      // line of the preload's logger: each written at its 1st, 2nd, 4th, 8th… occurrence only.
      const notes = repeatCounts(lines.filter((line) => !own.includes(line)));
      if (service === down) expect(notes.size, lines.join('\n')).to.be.at.least(1);
      for (const [shape, counts] of notes) {
        expect(counts, shape).to.deep.equal(counts.map((_, i) => 2 ** i));
      }
    }
  });

  it('bad exporter settings are named and never echo a header value', async () => {
    const service = await start({
      OTEL_METRICS_EXPORTER: 'otlp,zipkin',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_HEADERS: 'not a header=secret-value-9',
    });
    const lines = service.stderrLines();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.equal(
      'scanopy-metrics: OTEL_METRICS_EXPORTER: expected a comma-separated list of prometheus, otlp, console, none, got "otlp,zipkin"; OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; expected http/protobuf or http/json; OTEL_EXPORTER_OTLP_HEADERS: expected name=value pairs separated by commas, with header names; the metrics route is disabled (404)',
    );
    expect(lines[0]).to.not.include('secret-value-9');
  });
});
