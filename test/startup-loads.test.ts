// Start-up loads only what the configuration needs: no OpenTelemetry module at all (the SDK:
// sdk-metrics, core, resources, semantic-conventions, and the API) until something records through
// the SDK (instrumentation-http, runtime metrics, a push exporter, a caller of its provider); a
// scrape of the package's own series loads none either; koa hooked by the package's own require() hook, no node:http2 until the service
// serves HTTP/2, the YAML parser only for a configuration file, instrumentation-http only when
// enabled, and nothing beyond the off switch when the package is disabled.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { sample } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

interface Loaded {
  packages: string[];
  own: string[];
  /** Whether node:http2 is loaded. */
  http2: boolean;
}

/** The package's own modules that only a scrape, a push exporter or a file needs. */
const LAZY_OWN = [
  'collection/sdk.js',
  'collection/producer.js',
  'exposition/serializer.js',
  'export/exporter.js',
  'export/readers.js',
  'config/file.js',
  'config/sdk-views.js',
  'preload/instrumentation.js',
  'listener/metrics-listener.js',
  'runtime/runtime-metrics.js',
];

const SDK = [
  '@opentelemetry/core',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/semantic-conventions',
];

async function loaded(url: string): Promise<Loaded> {
  const response = await get(url, '/loaded');
  expect(response.status).to.equal(200);
  return JSON.parse(response.body) as Loaded;
}

/** The count of the fixture's GET requests, which no router serves. */
function unroutedGets(text: string): number {
  return sample(text, 'http_requests_total', {
    method: 'GET',
    path: 'unmatched',
    status: '200',
    entity_type: 'anonymous',
  });
}

function openTelemetry(packages: readonly string[]): string[] {
  return packages.filter((name) => name.startsWith('@opentelemetry/'));
}

describe('start-up loads only what the configuration needs (--require)', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('with a token: no OpenTelemetry module, YAML or node:http2, before or after a scrape', async () => {
    const bare = await children.start({ fixture: fixture('loaded-modules.cjs') });
    const bareLoaded = await loaded(bare.url);
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    const before = await loaded(service.url);
    // Not one package more than the bare app: the preload's hooks are its own.
    expect(before.packages).to.deep.equal(bareLoaded.packages);
    expect(before.http2).to.equal(false);
    expect(before.own.filter((file) => LAZY_OWN.includes(file))).to.deep.equal([]);
    const text = await scrapeChild(service.url);
    expect(unroutedGets(text)).to.equal(1);
    expect(text).to.match(/^target_info\{.*service_name="unknown_service:node"/m);
    const after = await loaded(service.url);
    expect(openTelemetry(after.packages)).to.deep.equal([]);
    expect(after.packages).to.deep.equal(bareLoaded.packages);
    expect(service.stderr()).to.equal('');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
  });

  it('with a token, never scraped: still no OpenTelemetry module when the process exits', async () => {
    const atExit = path.join(children.tempDir(), 'loaded-at-exit.json');
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, LOADED_AT_EXIT: atExit },
    });
    expect((await get(service.url, '/')).status).to.equal(200);
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    const exit = JSON.parse(readFileSync(atExit, 'utf8')) as Loaded;
    expect(openTelemetry(exit.packages)).to.deep.equal([]);
    expect(exit.http2).to.equal(false);
    expect(exit.own.filter((file) => LAZY_OWN.includes(file))).to.deep.equal([]);
    expect(service.stderr()).to.equal('');
  });

  it('with a configuration file: the YAML parser', async () => {
    const cwd = children.tempDir();
    writeFileSync(path.join(cwd, 'otel-config.yaml'), 'file_format: "1.0"\n');
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
      cwd,
    });
    expect((await loaded(service.url)).packages).to.include('yaml');
    expect(service.stderr()).to.equal('');
  });

  it('with the shipped otel-config.yaml (views, limits): YAML, and no OpenTelemetry module before or after a scrape', async () => {
    const cwd = children.tempDir();
    writeFileSync(
      path.join(cwd, 'otel-config.yaml'),
      readFileSync(path.join(__dirname, '..', '..', 'otel-config.yaml')),
    );
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
      cwd,
    });
    const before = await loaded(service.url);
    expect(before.packages).to.include('yaml');
    expect(openTelemetry(before.packages)).to.deep.equal([]);
    const text = await scrapeChild(service.url);
    expect(unroutedGets(text)).to.equal(1);
    expect(openTelemetry((await loaded(service.url)).packages)).to.deep.equal([]);
    expect(service.stderr()).to.equal('');
  });

  it('a caller of the SDK provider gets it, and the scrape serves its instruments with the same target_info', async () => {
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    const first = await scrapeChild(service.url);
    expect(openTelemetry((await loaded(service.url)).packages)).to.deep.equal([]);
    expect((await get(service.url, '/sdk-counter')).status).to.equal(200);
    const second = await scrapeChild(service.url);
    expect((await loaded(service.url)).packages).to.include.members([...SDK, '@opentelemetry/api']);
    expect(sample(second, 'host_counter_total', {})).to.equal(1);
    const targetInfo = (text: string): string | undefined => /^target_info\{.*$/m.exec(text)?.[0];
    expect(targetInfo(second)).to.equal(targetInfo(first));
    expect(service.stderr()).to.equal('');
  });

  it('with OTEL_NODE_ENABLED_INSTRUMENTATIONS=http: instrumentation-http and the SDK', async () => {
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' },
    });
    expect((await loaded(service.url)).packages).to.include.members([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/sdk-metrics',
    ]);
    expect(service.stderr()).to.equal('');
  });

  it('disabled: the off switch alone, no OpenTelemetry module at all', async () => {
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_DISABLED: 'true' },
    });
    const { packages, own } = await loaded(service.url);
    expect(openTelemetry(packages)).to.deep.equal([]);
    expect(own).to.deep.equal(['preload/register.js', 'preload/switch.js', 'version.js']);
    expect(service.stderr()).to.equal('');
  });
});

describe('start-up loads only what the configuration needs (--import)', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('with a token: import-in-the-middle, no OpenTelemetry module', async () => {
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: IMPORT_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    const { packages, own, http2 } = await loaded(service.url);
    expect(openTelemetry(packages)).to.deep.equal([]);
    expect(packages).to.include.members(['import-in-the-middle', 'koa']);
    expect(packages).to.not.include('require-in-the-middle');
    expect(http2).to.equal(false);
    expect(own.filter((file) => LAZY_OWN.includes(file))).to.deep.equal([]);
    expect(service.stderr()).to.equal('');
  });
});
