// Start-up loads only what the configuration needs: the OpenTelemetry SDK (sdk-metrics, core,
// resources, semantic-conventions) when the first scrape or a caller needs it, the YAML parser
// only for a configuration file, instrumentation-http only when enabled, and nothing beyond the
// off switch when the package is disabled.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { sample } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

interface Loaded {
  packages: string[];
  own: string[];
}

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

describe('start-up loads only what the configuration needs (--require)', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('with a token: no SDK, YAML or instrumentation-http until the first scrape, then the SDK', async () => {
    const service = await children.start({
      fixture: fixture('loaded-modules.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    const before = await loaded(service.url);
    expect(before.packages).to.include.members(['@opentelemetry/api', 'koa']);
    expect(before.packages).to.not.include.members([...SDK]);
    for (const name of [...SDK, 'yaml', '@opentelemetry/instrumentation-http']) {
      expect(before.packages, name).to.not.include(name);
    }
    const text = await scrapeChild(service.url);
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: 'unmatched',
        status: '200',
        entity_type: 'anonymous',
      }),
    ).to.equal(1);
    expect(text).to.match(/^target_info\{.*service_name="unknown_service:node"/m);
    const after = await loaded(service.url);
    expect(after.packages).to.include.members(['@opentelemetry/sdk-metrics']);
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
    expect(packages.filter((name) => name.startsWith('@opentelemetry/'))).to.deep.equal([]);
    expect(own).to.deep.equal(['preload/register.js', 'preload/switch.js', 'version.js']);
    expect(service.stderr()).to.equal('');
  });
});
