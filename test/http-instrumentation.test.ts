// OTEL_NODE_ENABLED_INSTRUMENTATIONS=http: OTel's own http.server.request.duration, recorded into
// the package's provider and served in the same exposition as the three metrics; off by default.
// Views from otel-config.yaml apply to it too.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import type { ChildService } from './helpers/child';
import { metricTypes, requestsTotal, sample, series } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

const OTEL_LABELS = {
  http_request_method: 'GET',
  url_scheme: 'http',
  network_protocol_version: '1.1',
  http_response_status_code: '200',
};

describe('OTEL_NODE_ENABLED_INSTRUMENTATIONS=http', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  async function start(
    file: string,
    nodeArgs: readonly string[],
    env: Record<string, string>,
    yaml?: string,
  ): Promise<ChildService> {
    const cwd = children.tempDir();
    if (yaml !== undefined)
      writeFileSync(path.join(cwd, 'otel-config.yaml'), `file_format: '1.0'\n${yaml}`);
    return children.start({
      fixture: fixture(file),
      nodeArgs,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
      cwd,
    });
  }

  for (const [title, file, nodeArgs] of [
    ['CommonJS service with --require', 'service.cjs', REQUIRE_PRELOAD],
    ['ES-module service with --import', 'service.mjs', IMPORT_PRELOAD],
  ] as const) {
    it(`${title}: http_server_request_duration is in the same exposition`, async () => {
      const service = await start(file, nodeArgs, { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' });
      for (let i = 0; i < 3; i++) await get(service.url, '/api/v1/hosts/1');
      const text = await scrapeChild(service.url);
      expect(metricTypes(text)).to.deep.include({
        http_server_request_duration: 'histogram',
        http_requests_total: 'counter',
        http_request_duration_seconds: 'histogram',
        scanopy_events_total: 'counter',
      });
      expect(sample(text, 'http_server_request_duration_count', OTEL_LABELS)).to.equal(3);
      expect(
        sample(text, 'http_server_request_duration_bucket', { ...OTEL_LABELS, le: '+Inf' }),
      ).to.equal(3);
      expect(requestsTotal(text, 'GET', '/api/v1/hosts/:id', '200')).to.equal(3);
      expect(service.stderr()).to.equal('');
    });

    it(`${title}: without the variable there is no http_server_request_duration`, async () => {
      const service = await start(file, nodeArgs, {});
      for (let i = 0; i < 3; i++) await get(service.url, '/api/v1/hosts/1');
      const text = await scrapeChild(service.url);
      expect(text).to.not.contain('http_server_request_duration');
      expect(Object.keys(metricTypes(text))).to.deep.equal([
        'target_info',
        'http_requests_total',
        'http_request_duration_seconds',
        'scanopy_events_total',
        'http_requests_in_flight',
        'http_request_size_bytes',
        'http_response_size_bytes',
        'scanopy_metrics_series_overflow_total',
        'scanopy_metrics_scrapes_total',
        'scanopy_metrics_scrape_duration_seconds',
      ]);
    });
  }

  describe('views from otel-config.yaml on http.server.request.duration', () => {
    const VIEW = (selector: string, stream: string) => `meter_provider:
  views:
    - selector:
${selector}
      stream:
${stream}
`;

    /**
     * Starts the CommonJS service with instrumentation-http and `yaml` as its otel-config.yaml,
     * GETs each of `paths` in turn, and returns the scrape that follows.
     */
    async function scrapeAfter(yaml: string, paths: readonly string[]): Promise<string> {
      const service = await start(
        'service.cjs',
        REQUIRE_PRELOAD,
        { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' },
        yaml,
      );
      for (const p of paths) await get(service.url, p);
      return scrapeChild(service.url);
    }

    /** The first label set has its own series, the second (twice) went to the overflow series. */
    function expectSecondLabelSetInOverflow(text: string): void {
      expect(sample(text, 'http_server_request_duration_count', OTEL_LABELS)).to.equal(1);
      expect(
        sample(text, 'http_server_request_duration_count', { otel_metric_overflow: 'true' }),
      ).to.equal(2);
    }

    it('bucket boundaries [0.1, 1] give le="0.1", "1", "+Inf" only', async () => {
      const text = await scrapeAfter(
        VIEW(
          '        instrument_name: http.server.request.duration',
          '        aggregation:\n          explicit_bucket_histogram:\n            boundaries: [0.1, 1]',
        ),
        ['/api/v1/hosts/1'],
      );
      expect(
        series(text, 'http_server_request_duration_bucket').map((s) => s.labels.le),
      ).to.deep.equal(['0.1', '1', '+Inf']);
      // The package's own histogram keeps its buckets.
      expect(series(text, 'http_request_duration_seconds_bucket')).to.have.length(12);
    });

    it('attribute_keys.included keeps only the listed attributes', async () => {
      const text = await scrapeAfter(
        VIEW(
          '        instrument_name: http.server.request.duration',
          '        attribute_keys:\n          included: [http.request.method]',
        ),
        ['/api/v1/hosts/1', '/nope'],
      );
      expect(
        sample(text, 'http_server_request_duration_count', { http_request_method: 'GET' }),
      ).to.equal(2);
    });

    it('attribute_keys.excluded leaves the listed attributes out', async () => {
      const text = await scrapeAfter(
        VIEW(
          '        instrument_name: http.server.request.duration',
          '        attribute_keys:\n          excluded: [url.scheme, network.protocol.version]',
        ),
        ['/api/v1/hosts/1'],
      );
      expect(
        sample(text, 'http_server_request_duration_count', {
          http_request_method: 'GET',
          http_response_status_code: '200',
        }),
      ).to.equal(1);
    });

    it('a view aggregation_cardinality_limit: 2 sends the second label set to overflow', async () => {
      const text = await scrapeAfter(
        VIEW(
          '        instrument_name: http.server.request.duration',
          '        aggregation_cardinality_limit: 2',
        ),
        ['/api/v1/hosts/1', '/nope', '/nope'],
      );
      expectSecondLabelSetInOverflow(text);
    });

    it("the reader's cardinality_limits.histogram: 2 applies to it too", async () => {
      const text = await scrapeAfter(
        `meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development: {}
        cardinality_limits:
          histogram: 2
`,
        ['/api/v1/hosts/1', '/nope', '/nope'],
      );
      expectSecondLabelSetInOverflow(text);
    });

    it('a view selecting instrument_type: counter leaves the histogram alone', async () => {
      const text = await scrapeAfter(
        VIEW(
          "        meter_name: '@opentelemetry/instrumentation-http'\n        instrument_type: counter",
          '        aggregation:\n          drop: {}',
        ),
        ['/api/v1/hosts/1'],
      );
      expect(sample(text, 'http_server_request_duration_count', OTEL_LABELS)).to.equal(1);
    });
  });
});
