// Runtime metrics are opt-in: absent by default; with OTEL_NODE_ENABLED_INSTRUMENTATIONS=runtime-node
// (alone or with http) or enabled_instrumentations in otel-config.yaml, every runtime metric the
// README lists is served by the same route, with its type, and with values a live process has.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, fixture, REQUIRE_PRELOAD } from './helpers/child';
import { metricTypes, sample, series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { scrapeChild, TOKEN } from './helpers/preloaded-service';

/** Every runtime metric, by its name in the exposition, and its type there. */
const RUNTIME_METRICS: Record<string, string> = {
  nodejs_eventloop_utilization: 'gauge',
  nodejs_eventloop_time_total: 'counter',
  nodejs_eventloop_delay_min: 'gauge',
  nodejs_eventloop_delay_max: 'gauge',
  nodejs_eventloop_delay_mean: 'gauge',
  nodejs_eventloop_delay_stddev: 'gauge',
  nodejs_eventloop_delay_p50: 'gauge',
  nodejs_eventloop_delay_p90: 'gauge',
  nodejs_eventloop_delay_p99: 'gauge',
  v8js_gc_duration: 'histogram',
  v8js_memory_heap_used: 'gauge',
  v8js_memory_heap_space_size: 'gauge',
  v8js_memory_heap_space_available_size: 'gauge',
  v8js_memory_heap_space_physical_size: 'gauge',
  v8js_resource_active: 'gauge',
  process_cpu_time_total: 'counter',
  process_cpu_utilization: 'gauge',
  process_memory_usage: 'gauge',
};

const RUNTIME_PREFIX = /^(nodejs_|v8js_|process_)/;

describe('runtime metrics (opt-in)', function () {
  this.timeout(30_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  const start = (env: Record<string, string>, cwd?: string) =>
    children.start({
      fixture: fixture('service.cjs'),
      // A 1 MiB young generation: scavenges, and so GC durations, come early in any process.
      nodeArgs: [...REQUIRE_PRELOAD, '--max-semi-space-size=1'],
      env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
      cwd,
    });

  /** Two scrapes with traffic between them: the delay gauges need a few samples first. */
  async function scrapeTwice(url: string): Promise<string> {
    await scrapeChild(url);
    for (let i = 0; i < 20; i++) await rawRequest(url, { path: '/health' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    return scrapeChild(url);
  }

  it('are absent by default', async () => {
    const service = await start({});
    const text = await scrapeTwice(service.url);
    expect(
      Object.keys(metricTypes(text)).filter((name) => RUNTIME_PREFIX.test(name)),
    ).to.deep.equal([]);
    expect(service.stderr()).to.equal('');
  });

  for (const enabled of ['runtime-node', 'http,runtime-node', ' runtime-node , http ']) {
    it(`are all served with OTEL_NODE_ENABLED_INSTRUMENTATIONS="${enabled}"`, async () => {
      const service = await start({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: enabled });
      const text = await scrapeTwice(service.url);
      const types = metricTypes(text);
      const runtime = Object.fromEntries(
        Object.entries(types).filter(([name]) => RUNTIME_PREFIX.test(name)),
      );
      expect(runtime).to.deep.equal(RUNTIME_METRICS);
      // Values a live process has.
      expect(sample(text, 'process_memory_usage')).to.be.greaterThan(1024 * 1024);
      expect(sample(text, 'process_cpu_time_total', { cpu_mode: 'user' })).to.be.greaterThan(0);
      const utilization = sample(text, 'nodejs_eventloop_utilization');
      expect(utilization).to.be.within(0, 1);
      expect(sample(text, 'nodejs_eventloop_delay_p99')).to.be.greaterThan(0);
      expect(
        series(text, 'v8js_memory_heap_used').map((s) => s.labels.v8js_heap_space_name),
      ).to.include('old_space');
      // The server's listening socket keeps the loop alive.
      expect(
        series(text, 'v8js_resource_active').map((s) => s.labels.v8js_resource_type),
      ).to.include('TCPServerWrap');
      // instrumentation-http is on exactly when asked for.
      expect('http_server_request_duration' in types).to.equal(enabled.includes('http'));
      expect(service.stderr()).to.equal('');
    });
  }

  it('are served when otel-config.yaml enables them, and the variable wins over the file', async () => {
    const dir = children.tempDir();
    writeFileSync(
      path.join(dir, 'otel-config.yaml'),
      [
        "file_format: '1.0'",
        'instrumentation/development:',
        '  js:',
        '    scanopy-metrics:',
        '      enabled_instrumentations: [runtime-node]',
        '',
      ].join('\n'),
    );
    const fromFile = await start({}, dir);
    const types = metricTypes(await scrapeTwice(fromFile.url));
    expect(types.process_memory_usage).to.equal('gauge');
    expect(fromFile.stderr()).to.equal('');

    const overridden = await start({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' }, dir);
    const text = await scrapeTwice(overridden.url);
    expect(
      Object.keys(metricTypes(text)).filter((name) => RUNTIME_PREFIX.test(name)),
    ).to.deep.equal([]);
  });

  it('an unknown instrumentation name is reported with the variable and the names it accepts', async () => {
    const service = await start({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'runtime-nod' });
    const response = await rawRequest(service.url, {
      path: '/metrics',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).to.equal(404);
    expect(service.stderrLines()).to.deep.equal([
      'scanopy-metrics: OTEL_NODE_ENABLED_INSTRUMENTATIONS: expected a comma-separated list of http, runtime-node, got "runtime-nod"; the metrics route is disabled (404)',
    ]);
  });
});
