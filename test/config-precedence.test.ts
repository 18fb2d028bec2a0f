// Precedence: environment over otel-config.yaml over the built-in defaults, setting by setting,
// resolved in-process and then seen through a preloaded child service.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULT_SETTINGS, loadSettings } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture, makeTempDir, removeTempDir } from './helpers/child';
import { series } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

const FILE = `file_format: '1.0'
disabled: true
log_level: warn
resource:
  attributes:
    - name: service.name
      value: file-service
    - name: team
      value: file-team
    - name: region
      value: file-region
instrumentation/development:
  js:
    scanopy-metrics:
      path: /from-file
      entity_type_key: fileKey
      auth_failures_per_minute: 5
`;

describe('configuration: precedence', () => {
  let withFile: string;
  let empty: string;
  before(() => {
    withFile = makeTempDir();
    writeFileSync(path.join(withFile, 'otel-config.yaml'), FILE);
    empty = makeTempDir();
  });
  after(() => {
    removeTempDir(withFile);
    removeTempDir(empty);
  });

  const resolve = (env: NodeJS.ProcessEnv, dir: string) => {
    const { settings, problems } = loadSettings(env, dir);
    expect(problems).to.deep.equal([]);
    return settings;
  };

  it('path: environment, else file, else /metrics', () => {
    expect(resolve({ SCANOPY_METRICS_PATH: '/from-env' }, withFile).path).to.equal('/from-env');
    expect(resolve({}, withFile).path).to.equal('/from-file');
    expect(resolve({}, empty).path).to.equal('/metrics');
  });

  it('service.name: OTEL_SERVICE_NAME, else file, else none (the SDK default)', () => {
    expect(
      resolve({ OTEL_SERVICE_NAME: 'env-service' }, withFile).resourceAttributes['service.name'],
    ).to.equal('env-service');
    expect(resolve({}, withFile).resourceAttributes['service.name']).to.equal('file-service');
    expect(resolve({}, empty).resourceAttributes).to.deep.equal({});
  });

  it('resource attributes merge key by key, OTEL_RESOURCE_ATTRIBUTES winning', () => {
    expect(
      resolve({ OTEL_RESOURCE_ATTRIBUTES: 'region=env-region,zone=a' }, withFile)
        .resourceAttributes,
    ).to.deep.equal({
      'service.name': 'file-service',
      team: 'file-team',
      region: 'env-region',
      zone: 'a',
    });
  });

  it('log level: OTEL_LOG_LEVEL, else file, else info', () => {
    expect(resolve({ OTEL_LOG_LEVEL: 'error' }, withFile).logLevel).to.equal('error');
    expect(resolve({}, withFile).logLevel).to.equal('warn');
    expect(resolve({}, empty).logLevel).to.equal('info');
  });

  it('entity_type key: SCANOPY_METRICS_ENTITY_TYPE_KEY, else file, else entityType', () => {
    expect(resolve({ SCANOPY_METRICS_ENTITY_TYPE_KEY: 'envKey' }, withFile).entityTypeKey).to.equal(
      'envKey',
    );
    expect(resolve({}, withFile).entityTypeKey).to.equal('fileKey');
    expect(resolve({}, empty).entityTypeKey).to.equal('entityType');
  });

  it('auth failure limit: SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE, else file, else 30', () => {
    expect(
      resolve({ SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '0' }, withFile).authFailuresPerMinute,
    ).to.equal(0);
    expect(resolve({}, withFile).authFailuresPerMinute).to.equal(5);
    expect(resolve({}, empty).authFailuresPerMinute).to.equal(30);
  });

  it('disabled: OTEL_SDK_DISABLED=false turns on what the file turned off', () => {
    expect(resolve({ OTEL_SDK_DISABLED: 'false' }, withFile).disabled).to.equal(false);
    expect(resolve({}, withFile).disabled).to.equal(true);
    expect(resolve({}, empty).disabled).to.equal(DEFAULT_SETTINGS.disabled);
  });

  describe('in a preloaded service', () => {
    const children = new Children();
    afterEach(() => children.stopAll());

    it('SCANOPY_METRICS_PATH and OTEL_SERVICE_NAME win over the file; the file over defaults', async () => {
      const both = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: {
          SCANOPY_METRICS_TOKEN: TOKEN,
          OTEL_SDK_DISABLED: 'false',
          SCANOPY_METRICS_PATH: '/from-env',
          OTEL_SERVICE_NAME: 'env-service',
        },
        cwd: withFile,
      });
      const fromEnv = await scrapeChild(both.url, TOKEN, '/from-env');
      expect(series(fromEnv, 'target_info')[0].labels).to.deep.include({
        service_name: 'env-service',
        team: 'file-team',
      });
      const notServed = await get(both.url, '/from-file', { Authorization: `Bearer ${TOKEN}` });
      expect(notServed.status).to.equal(404);
      expect(notServed.body).to.equal('Not Found');

      const fileOnly = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, OTEL_SDK_DISABLED: 'false' },
        cwd: withFile,
      });
      const fromFile = await scrapeChild(fileOnly.url, TOKEN, '/from-file');
      expect(series(fromFile, 'target_info')[0].labels.service_name).to.equal('file-service');
      expect((await get(fileOnly.url, '/metrics')).body).to.equal('Not Found');

      const neither = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
        cwd: empty,
      });
      const fromDefaults = await scrapeChild(neither.url, TOKEN, '/metrics');
      expect(series(fromDefaults, 'target_info')[0].labels.service_name).to.equal(
        'unknown_service:node',
      );
    });
  });
});
