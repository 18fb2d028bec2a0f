// What otel-config.yaml changes in a real scrape of a preloaded child service: bucket boundaries,
// attribute keys, scope labels, target_info, cardinality limits, resource attributes, and the
// event vocabulary.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { VERSION } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import type { ChildService } from './helpers/child';
import {
  eventsTotal,
  metricTypes,
  parseExposition,
  requestsTotal,
  sample,
  series,
} from './helpers/exposition';
import { TOKEN, get, post, scrapeChild } from './helpers/preloaded-service';

const HOSTS = '/api/v1/hosts/:id';

const view = (selector: string, stream: string) => `
    - selector:
        ${selector}
      stream:
${stream
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}`;

const reader = (exporter: string, limits = '') => `
  readers:
    - pull:
        exporter:
          prometheus/development:
${exporter
  .split('\n')
  .map((line) => `            ${line}`)
  .join('\n')}
${limits}`;

describe('configuration: otel-config.yaml in a real scrape', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  /** A preloaded service whose working directory holds `yaml` as otel-config.yaml. */
  async function startWith(yaml: string, env: Record<string, string> = {}): Promise<ChildService> {
    const cwd = children.tempDir();
    writeFileSync(path.join(cwd, 'otel-config.yaml'), `file_format: '1.0'\n${yaml}\n`);
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
      cwd,
    });
    return service;
  }

  /** A preloaded service whose otel-config.yaml holds one view. */
  const startWithView = (selector: string, stream: string): Promise<ChildService> =>
    startWith(`meter_provider:\n  views:${view(selector, stream)}`);

  /** A preloaded service whose otel-config.yaml holds one pull reader. */
  const startWithReader = (exporter: string, limits?: string): Promise<ChildService> =>
    startWith(`meter_provider:${reader(exporter, limits)}`);

  it('custom buckets [0.1, 1] are the only le labels: 0.1, 1, +Inf', async () => {
    const service = await startWithView(
      'instrument_name: http_request_duration_seconds',
      'aggregation:\n  explicit_bucket_histogram:\n    boundaries: [0.1, 1]',
    );
    for (let i = 0; i < 3; i++) await get(service.url, '/api/v1/hosts/1');
    await get(service.url, '/health');
    const text = await scrapeChild(service.url);
    const buckets = series(text, 'http_request_duration_seconds_bucket');
    expect(buckets).to.have.length(6);
    for (const p of [HOSTS, '/health']) {
      expect(buckets.filter((b) => b.labels.path === p).map((b) => b.labels.le)).to.deep.equal([
        '0.1',
        '1',
        '+Inf',
      ]);
    }
    expect(
      sample(text, 'http_request_duration_seconds_bucket', {
        method: 'GET',
        path: HOSTS,
        le: '+Inf',
      }),
    ).to.equal(3);
    expect(service.stderr()).to.equal('');
  });

  it('attribute_keys.included [method, path] leaves status and entity_type out of http_requests_total', async () => {
    const service = await startWithView(
      'instrument_name: http_requests_total',
      'attribute_keys:\n  included: [method, path]',
    );
    await get(service.url, '/api/v1/hosts/1', { 'x-entity-type': 'daemon' });
    await get(service.url, '/api/v1/hosts/2', { 'x-entity-type': 'user' });
    await get(service.url, '/api/v1/hosts/3');
    await get(service.url, '/nope');
    const text = await scrapeChild(service.url);
    const lines = series(text, 'http_requests_total');
    expect(lines.map((s) => Object.keys(s.labels).sort())).to.deep.equal([
      ['method', 'path'],
      ['method', 'path'],
    ]);
    expect(sample(text, 'http_requests_total', { method: 'GET', path: HOSTS })).to.equal(3);
    expect(sample(text, 'http_requests_total', { method: 'GET', path: 'unmatched' })).to.equal(1);
    // The histogram keeps its own labels.
    expect(
      sample(text, 'http_request_duration_seconds_count', { method: 'GET', path: HOSTS }),
    ).to.equal(3);
  });

  it('attribute_keys.excluded [entity_type] keeps method, path and status', async () => {
    const service = await startWithView(
      'instrument_name: http_requests_total',
      'attribute_keys:\n  excluded: [entity_type]',
    );
    await get(service.url, '/api/v1/hosts/1', { 'x-entity-type': 'daemon' });
    await get(service.url, '/api/v1/hosts/2', { 'x-entity-type': 'user' });
    const text = await scrapeChild(service.url);
    expect(series(text, 'http_requests_total')).to.have.length(1);
    expect(
      sample(text, 'http_requests_total', { method: 'GET', path: HOSTS, status: '200' }),
    ).to.equal(2);
  });

  it('without_scope_info: false adds otel_scope_name="scanopy-metrics" to every series', async () => {
    const service = await startWithReader('without_scope_info: false');
    await get(service.url, '/api/v1/hosts/1');
    await post(service.url, '/publish?n=2');
    const text = await scrapeChild(service.url);
    const scope = { otel_scope_name: 'scanopy-metrics', otel_scope_version: VERSION };
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: HOSTS,
        status: '200',
        entity_type: 'anonymous',
        ...scope,
      }),
    ).to.equal(1);
    expect(
      sample(text, 'scanopy_events_total', { entity: 'Host', operation: 'created', ...scope }),
    ).to.equal(2);
    const own = parseExposition(text).filter((s) => s.name !== 'target_info');
    expect(own.length).to.be.greaterThan(0);
    for (const s of own) expect(s.labels).to.deep.include(scope);
  });

  it('by default (without_scope_info: true) no series has otel_scope labels', async () => {
    const service = await startWith('');
    await get(service.url, '/api/v1/hosts/1');
    const text = await scrapeChild(service.url);
    for (const s of parseExposition(text)) {
      expect(Object.keys(s.labels).filter((k) => k.startsWith('otel_scope'))).to.deep.equal([]);
    }
  });

  it('without_target_info: true removes target_info', async () => {
    const shown = await startWith('');
    expect(metricTypes(await scrapeChild(shown.url))).to.have.property('target_info', 'gauge');
    const hidden = await startWithReader('without_target_info: true');
    const text = await scrapeChild(hidden.url);
    expect(series(text, 'target_info')).to.deep.equal([]);
    expect(text).to.not.contain('target_info');
    expect(metricTypes(text)).to.have.property('http_requests_total', 'counter');
  });

  it('cardinality_limits.default: 3 sends the third label set to otel_metric_overflow="true"', async () => {
    const service = await startWithReader(
      'without_scope_info: true',
      '        cardinality_limits:\n          default: 3',
    );
    await get(service.url, '/health');
    await get(service.url, '/api/v1/hosts/1');
    await get(service.url, '/nope');
    await get(service.url, '/api/v1/hosts/2', { 'x-entity-type': 'user' });
    const text = await scrapeChild(service.url);
    expect(requestsTotal(text, 'GET', '/health', '200')).to.equal(1);
    expect(requestsTotal(text, 'GET', HOSTS, '200')).to.equal(1);
    expect(sample(text, 'http_requests_total', { otel_metric_overflow: 'true' })).to.equal(2);
    expect(series(text, 'http_requests_total')).to.have.length(3);
    // The histogram has two label sets only (GET /health, GET hosts) plus GET unmatched → overflow.
    expect(
      sample(text, 'http_request_duration_seconds_count', { otel_metric_overflow: 'true' }),
    ).to.equal(1);
  });

  it('cardinality_limits.counter: 2 limits the counters, not the histogram', async () => {
    const service = await startWithReader(
      'without_scope_info: true',
      '        cardinality_limits:\n          counter: 2',
    );
    await get(service.url, '/health');
    await get(service.url, '/api/v1/hosts/1');
    await post(service.url, '/publish?n=1');
    await post(service.url, '/publish?n=2&entityType=Subnet');
    const text = await scrapeChild(service.url);
    expect(requestsTotal(text, 'GET', '/health', '200')).to.equal(1);
    expect(sample(text, 'http_requests_total', { otel_metric_overflow: 'true' })).to.equal(3);
    expect(eventsTotal(text, 'Host', 'created')).to.equal(1);
    expect(sample(text, 'scanopy_events_total', { otel_metric_overflow: 'true' })).to.equal(2);
    expect(series(text, 'http_request_duration_seconds_count')).to.have.length(3);
  });

  it("a view's aggregation_cardinality_limit applies to its metric only", async () => {
    const service = await startWithView(
      'instrument_name: http_requests_total',
      'aggregation_cardinality_limit: 2',
    );
    await get(service.url, '/health');
    await get(service.url, '/api/v1/hosts/1');
    await get(service.url, '/nope');
    const text = await scrapeChild(service.url);
    expect(series(text, 'http_requests_total')).to.have.length(2);
    expect(sample(text, 'http_requests_total', { otel_metric_overflow: 'true' })).to.equal(2);
    expect(series(text, 'http_request_duration_seconds_count')).to.have.length(3);
  });

  it('resource attributes and attributes_list show on target_info', async () => {
    const service = await startWith(`resource:
  attributes:
    - name: service.name
      value: inventory
    - name: replicas
      value: 3
  attributes_list: 'deployment.environment=eu%20west,team=net'`);
    const labels = series(await scrapeChild(service.url), 'target_info')[0].labels;
    expect(labels).to.deep.include({
      service_name: 'inventory',
      replicas: '3',
      deployment_environment: 'eu west',
      team: 'net',
    });
  });

  it('events.entities and events.operations count new names as themselves, before any is learned', async () => {
    const service = await startWith(`instrumentation/development:
  js:
    scanopy-metrics:
      events:
        entities: [Widget]
        operations: [archived]
        max_new_entities: 1
        max_new_operations: 0`);
    await post(service.url, '/publish?n=2&entityType=Widget&operation=archived');
    // One new entity type may be learned: the first counts as itself, the second as other.
    await post(service.url, '/publish?n=1&entityType=Gadget&operation=archived');
    await post(service.url, '/publish?n=1&entityType=Gizmo&operation=archived');
    await post(service.url, '/publish?n=1&entityType=Widget&operation=restored');
    const text = await scrapeChild(service.url);
    expect(eventsTotal(text, 'Widget', 'archived')).to.equal(2);
    expect(eventsTotal(text, 'Gadget', 'archived')).to.equal(1);
    expect(eventsTotal(text, 'other', 'archived')).to.equal(1);
    expect(eventsTotal(text, 'Widget', 'other')).to.equal(1);
    expect(service.stderrLines()).to.deep.equal([
      'scanopy-metrics: scanopy_events_total: entity reached its cap of 1 values beyond the configured vocabulary; further new values are counted as entity="other" (raise SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES or events.max_new_entities, or list the values in otel-config.yaml)',
    ]);
  });

  it('entity_type_key in the file reads the caller kind from that ctx.state key', async () => {
    const service = await startWith(`instrumentation/development:
  js:
    scanopy-metrics:
      entity_type_key: callerKind`);
    await get(service.url, '/api/v1/hosts/1', { 'x-entity-type': 'daemon' });
    const text = await scrapeChild(service.url);
    // The fixture sets ctx.state.entityType, which is no longer the key read.
    expect(requestsTotal(text, 'GET', HOSTS, '200')).to.equal(1);
  });
});
