// Configuration by environment variables, resolved in-process with loadSettings/startPreload:
// every variable, its default, and what it changes on the route and in the exposition.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULT_SETTINGS, loadSettings, preloaded } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { sample, series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { InProcess } from './helpers/in-process';

const LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];

function bearer(url: string, token: string, urlPath = '/metrics') {
  return rawRequest(url, { path: urlPath, headers: { Authorization: `Bearer ${token}` } });
}

describe('configuration: environment variables', () => {
  const run = new InProcess();
  afterEach(() => run.stopAll());

  it('with nothing set (and no otel-config.yaml) the settings are the built-in defaults', () => {
    expect(loadSettings({}, run.tempDir())).to.deep.equal({
      settings: DEFAULT_SETTINGS,
      problems: [],
    });
    expect(DEFAULT_SETTINGS).to.deep.include({
      disabled: false,
      logLevel: 'info',
      tokens: [],
      path: '/metrics',
      entityTypeKey: 'entityType',
      resourceAttributes: {},
      withoutScopeInfo: true,
      withoutTargetInfo: false,
      cardinalityLimit: 20_000,
      instrumentations: [],
      durationEntityType: false,
      maxNewEntities: 100,
      maxNewOperations: 200,
    });
  });

  it('an empty or blank variable counts as unset', () => {
    const env = {
      SCANOPY_METRICS_PATH: '',
      SCANOPY_METRICS_TOKEN: '   ',
      OTEL_LOG_LEVEL: ' ',
      OTEL_SDK_DISABLED: '',
      OTEL_SERVICE_NAME: '',
    };
    expect(loadSettings(env, run.tempDir())).to.deep.equal({
      settings: DEFAULT_SETTINGS,
      problems: [],
    });
  });

  describe('SCANOPY_METRICS_TOKEN', () => {
    it('takes several comma-separated tokens, trimmed; each opens the route', async () => {
      const env = { SCANOPY_METRICS_TOKEN: 'tok-a, tok-b ,,tok-c' };
      expect(loadSettings(env, run.tempDir()).settings.tokens).to.deep.equal([
        'tok-a',
        'tok-b',
        'tok-c',
      ]);
      const { preload, stderr } = run.start(env);
      const url = await run.serve(preload);
      for (const token of ['tok-a', 'tok-b', 'tok-c']) {
        expect((await bearer(url, token)).status).to.equal(200);
      }
      for (const token of ['tok-d', 'tok-a,tok-b', 'tok']) {
        expect((await bearer(url, token)).status).to.equal(401);
      }
      // Short tokens are accepted, with one warning that does not show them.
      expect(stderr).to.deep.equal([
        'scanopy-metrics: SCANOPY_METRICS_TOKEN: tokens shorter than 16 characters are easy to guess (3 of 3 are); use at least 16 random characters (commas separate tokens)',
      ]);
    });

    it('unset: the route answers 404 "Metrics not enabled"', async () => {
      const { preload } = run.start({});
      const url = await run.serve(preload);
      const response = await bearer(url, 'anything');
      expect(response.status).to.equal(404);
      expect(response.body).to.equal('Metrics not enabled');
    });
  });

  describe('SCANOPY_METRICS_TOKEN_FILE', () => {
    it('reads one token per line, surrounding white space trimmed (the path too)', async () => {
      const dir = run.tempDir();
      const file = path.join(dir, 'token');
      writeFileSync(file, '\n  first-token-0123456  \r\n\tsecond-token-012345\n\n');
      const env = { SCANOPY_METRICS_TOKEN_FILE: `  ${file}  ` };
      const { settings, problems } = loadSettings(env, dir);
      expect(problems).to.deep.equal([]);
      expect(settings.tokenFile).to.equal(file);
      expect(settings.tokens).to.deep.equal([]);

      const { preload, stderr } = run.start(env, dir);
      const url = await run.serve(preload);
      for (const token of ['first-token-0123456', 'second-token-012345']) {
        expect((await bearer(url, token)).status).to.equal(200);
      }
      for (const token of ['first-token-012345', 'third-token-0123456']) {
        expect((await bearer(url, token)).status).to.equal(401);
      }
      expect(stderr).to.deep.equal([]);
    });
  });

  describe('SCANOPY_METRICS_PATH', () => {
    it('moves the route; /metrics then belongs to the service', async () => {
      const env = { SCANOPY_METRICS_TOKEN: 'tok', SCANOPY_METRICS_PATH: '/internal/metrics' };
      expect(loadSettings(env, run.tempDir()).settings.path).to.equal('/internal/metrics');
      const { preload } = run.start(env);
      const url = await run.serve(preload);
      const moved = await bearer(url, 'tok', '/internal/metrics');
      expect(moved.status).to.equal(200);
      expect(moved.body).to.contain('# TYPE http_requests_total counter');
      const old = await bearer(url, 'tok', '/metrics');
      expect(old.status).to.equal(404);
      expect(old.body).to.equal('Not Found');
    });

    it('rejects a path that is not absolute or has a query, naming the variable', () => {
      for (const value of ['metrics', '/metrics?x=1', '/a b']) {
        expect(loadSettings({ SCANOPY_METRICS_PATH: value }, run.tempDir()).problems).to.deep.equal(
          [`SCANOPY_METRICS_PATH: expected an absolute path such as /metrics, got "${value}"`],
        );
      }
    });
  });

  describe('SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE', () => {
    it('defaults to 30', () => {
      expect(DEFAULT_SETTINGS.authFailuresPerMinute).to.equal(30);
    });

    it('2: the third failure in a minute gets 429 with Retry-After, the right token too', async () => {
      const env = { SCANOPY_METRICS_TOKEN: 'tok', SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '2' };
      expect(loadSettings(env, run.tempDir()).settings.authFailuresPerMinute).to.equal(2);
      const { preload } = run.start(env);
      const url = await run.serve(preload);
      expect((await bearer(url, 'wrong')).status).to.equal(401);
      expect((await bearer(url, 'wrong')).status).to.equal(401);
      const limited = await bearer(url, 'wrong');
      expect(limited.status).to.equal(429);
      expect(limited.body).to.equal('Too many failed attempts');
      expect(limited.headers['retry-after']).to.match(/^[1-9]\d*$/);
      expect(Number(limited.headers['retry-after'])).to.be.at.most(60);
      expect((await bearer(url, 'tok')).status).to.equal(429);
    });

    it('0 turns the limit off', async () => {
      const { preload } = run.start({
        SCANOPY_METRICS_TOKEN: 'tok',
        SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '0',
      });
      const url = await run.serve(preload);
      for (let i = 0; i < 40; i++) expect((await bearer(url, 'wrong')).status).to.equal(401);
    });

    it('rejects anything but a whole number, naming the variable', () => {
      for (const value of ['many', '-1', '1.5']) {
        expect(
          loadSettings({ SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: value }, run.tempDir()).problems,
        ).to.deep.equal([
          `SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: expected a whole number from 0 up, got "${value}"`,
        ]);
      }
    });
  });

  describe('SCANOPY_METRICS_ENTITY_TYPE_KEY', () => {
    it('reads the caller kind from that ctx.state key instead of entityType', async () => {
      const env = { SCANOPY_METRICS_TOKEN: 'tok', SCANOPY_METRICS_ENTITY_TYPE_KEY: 'callerKind' };
      expect(loadSettings(env, run.tempDir()).settings.entityTypeKey).to.equal('callerKind');
      const { preload } = run.start(env);
      const url = await run.serve(preload, (app) =>
        app.use((ctx) => {
          ctx.state.callerKind = 'daemon';
          ctx.state.entityType = 'user';
          ctx.body = 'ok';
        }),
      );
      await rawRequest(url, { path: '/x' });
      await rawRequest(url, { path: '/y' });
      const text = (await bearer(url, 'tok')).body;
      expect(
        sample(text, 'http_requests_total', {
          method: 'GET',
          path: 'unmatched',
          status: '200',
          entity_type: 'daemon',
        }),
      ).to.equal(2);
      expect(series(text, 'http_requests_total')).to.have.length(1);
    });
  });

  describe('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', () => {
    it('OTEL_SERVICE_NAME names the service on target_info', async () => {
      const env = { OTEL_SERVICE_NAME: 'inventory-api' };
      expect(loadSettings(env, run.tempDir()).settings.resourceAttributes).to.deep.equal({
        'service.name': 'inventory-api',
      });
      const { preload } = run.start(env);
      const text = await preload.metrics!.scrape();
      expect(series(text, 'target_info')).to.have.length(1);
      expect(series(text, 'target_info')[0].labels.service_name).to.equal('inventory-api');
    });

    it('OTEL_RESOURCE_ATTRIBUTES: key=value pairs, percent-decoded, trimmed', async () => {
      const env = {
        OTEL_RESOURCE_ATTRIBUTES:
          'deployment.environment=eu%20west,team=net%2Cops , service.version = 1.2.3,k=%C3%A9t%C3%A9',
      };
      expect(loadSettings(env, run.tempDir()).settings.resourceAttributes).to.deep.equal({
        'deployment.environment': 'eu west',
        team: 'net,ops',
        'service.version': '1.2.3',
        k: 'été',
      });
      const { preload } = run.start(env);
      const labels = series(await preload.metrics!.scrape(), 'target_info')[0].labels;
      expect(labels).to.deep.include({
        deployment_environment: 'eu west',
        team: 'net,ops',
        service_version: '1.2.3',
        k: 'été',
        // The SDK's default: unknown_service:<process.argv0>.
        service_name: `unknown_service:${process.argv0}`,
      });
    });

    it('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES', () => {
      const env = {
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,team=a',
        OTEL_SERVICE_NAME: 'from-service-name',
      };
      expect(loadSettings(env, run.tempDir()).settings.resourceAttributes).to.deep.equal({
        'service.name': 'from-service-name',
        team: 'a',
      });
    });

    it('rejects a pair without a key, naming the variable', () => {
      expect(
        loadSettings({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,=2' }, run.tempDir()).problems,
      ).to.deep.equal([
        'OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got "=2"',
      ]);
    });
  });

  describe('OTEL_SDK_DISABLED and SCANOPY_METRICS_DISABLED', () => {
    for (const name of ['OTEL_SDK_DISABLED', 'SCANOPY_METRICS_DISABLED']) {
      it(`${name}=true: startPreload builds nothing and publishes no instance`, () => {
        for (const value of ['true', 'TRUE', ' True ']) {
          const env = { SCANOPY_METRICS_TOKEN: 'tok', [name]: value };
          expect(loadSettings(env, run.tempDir()).settings.disabled).to.equal(true);
          const { preload, stderr } = run.start(env);
          expect(preload.metrics).to.equal(undefined);
          expect(preload.problems).to.deep.equal([]);
          expect(preloaded()).to.equal(undefined);
          expect(stderr).to.deep.equal([]);
        }
      });
    }

    it('either one set to true is enough, whatever the other says', () => {
      const dir = run.tempDir();
      for (const [otel, ours] of [
        ['true', 'false'],
        ['false', 'true'],
      ]) {
        const env = { OTEL_SDK_DISABLED: otel, SCANOPY_METRICS_DISABLED: ours };
        expect(loadSettings(env, dir).settings.disabled).to.equal(true);
      }
      const env = { OTEL_SDK_DISABLED: 'false', SCANOPY_METRICS_DISABLED: 'false' };
      expect(loadSettings(env, dir).settings.disabled).to.equal(false);
    });

    it('switched off, the preload stays silent even about other bad variables', () => {
      const { preload, stderr } = run.start({
        OTEL_SDK_DISABLED: 'true',
        SCANOPY_METRICS_PATH: 'metrics',
      });
      expect(preload.metrics).to.equal(undefined);
      expect(stderr).to.deep.equal([]);
    });
  });

  describe('OTEL_LOG_LEVEL', () => {
    it('takes every OTel level, case-insensitively', () => {
      const dir = run.tempDir();
      for (const level of LEVELS) {
        for (const value of [level, ` ${level.toUpperCase()} `]) {
          const { settings, problems } = loadSettings({ OTEL_LOG_LEVEL: value }, dir);
          expect(problems).to.deep.equal([]);
          expect(settings.logLevel).to.equal(level);
        }
      }
    });
  });

  describe('OTEL_CONFIG_FILE', () => {
    const FILE = (p: string) =>
      `file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      path: ${p}\n`;

    it('names the file, relative to the working directory', () => {
      const dir = run.tempDir();
      mkdirSync(path.join(dir, 'conf'));
      writeFileSync(path.join(dir, 'conf', 'custom.yaml'), FILE('/from-custom'));
      const { settings, problems } = loadSettings({ OTEL_CONFIG_FILE: 'conf/custom.yaml' }, dir);
      expect(problems).to.deep.equal([]);
      expect(settings.configFile).to.equal(path.join(dir, 'conf', 'custom.yaml'));
      expect(settings.path).to.equal('/from-custom');
    });

    it('wins over ./otel-config.yaml, which is read when it is unset', () => {
      const dir = run.tempDir();
      writeFileSync(path.join(dir, 'otel-config.yaml'), FILE('/from-cwd'));
      writeFileSync(path.join(dir, 'custom.yaml'), FILE('/from-custom'));
      const named = loadSettings({ OTEL_CONFIG_FILE: path.join(dir, 'custom.yaml') }, dir);
      expect(named.settings.path).to.equal('/from-custom');
      const unset = loadSettings({}, dir);
      expect(unset.settings.configFile).to.equal(path.join(dir, 'otel-config.yaml'));
      expect(unset.settings.path).to.equal('/from-cwd');
    });
  });

  describe('OTEL_NODE_ENABLED_INSTRUMENTATIONS', () => {
    it('http enables instrumentation-http; off by default', () => {
      const dir = run.tempDir();
      expect(loadSettings({}, dir).settings.instrumentations).to.deep.equal([]);
      for (const value of ['http', ' http , ']) {
        const { settings, problems } = loadSettings(
          { OTEL_NODE_ENABLED_INSTRUMENTATIONS: value },
          dir,
        );
        expect(problems).to.deep.equal([]);
        expect(settings.instrumentations).to.deep.equal(['http']);
      }
    });

    it('runtime-node enables the runtime metrics, alone or with http', () => {
      const dir = run.tempDir();
      for (const [value, expected] of [
        ['runtime-node', ['runtime-node']],
        ['http,runtime-node', ['http', 'runtime-node']],
        [' runtime-node , http', ['runtime-node', 'http']],
      ] as const) {
        const { settings, problems } = loadSettings(
          { OTEL_NODE_ENABLED_INSTRUMENTATIONS: value },
          dir,
        );
        expect(problems).to.deep.equal([]);
        expect(settings.instrumentations).to.deep.equal(expected);
      }
    });

    it('an unknown name is a problem: one stderr line and the route disabled', async () => {
      const env = { SCANOPY_METRICS_TOKEN: 'tok', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,grpc' };
      const { preload, stderr } = run.start(env);
      expect(preload.problems).to.deep.equal([
        'OTEL_NODE_ENABLED_INSTRUMENTATIONS: expected a comma-separated list of http, runtime-node, got "grpc"',
      ]);
      expect(stderr).to.deep.equal([
        'scanopy-metrics: OTEL_NODE_ENABLED_INSTRUMENTATIONS: expected a comma-separated list of http, runtime-node, got "grpc"; the metrics route is disabled (404)',
      ]);
      const url = await run.serve(preload);
      const response = await bearer(url, 'tok');
      expect(response.status).to.equal(404);
      expect(response.body).to.equal('Metrics not enabled');
    });
  });

  describe('SCANOPY_METRICS_DURATION_ENTITY_TYPE', () => {
    for (const [value, labels] of [
      [undefined, ['method', 'path']],
      ['false', ['method', 'path']],
      ['true', ['method', 'path', 'entity_type']],
    ] as const) {
      it(`${value ?? 'unset'}: http_request_duration_seconds has the labels ${labels.join(', ')}`, async () => {
        const env = { SCANOPY_METRICS_TOKEN: 'tok', SCANOPY_METRICS_DURATION_ENTITY_TYPE: value };
        const { preload } = run.start(env);
        const url = await run.serve(preload);
        await rawRequest(url, { path: '/some/path' });
        const text = (await bearer(url, 'tok')).body;
        const counts = series(text, 'http_request_duration_seconds_count');
        expect(counts.map((s) => Object.keys(s.labels))).to.deep.equal([labels]);
        if (value === 'true') expect(counts[0].labels.entity_type).to.equal('anonymous');
      });
    }

    it('rejects anything but true or false, naming the variable', () => {
      const { problems } = loadSettings(
        { SCANOPY_METRICS_DURATION_ENTITY_TYPE: 'yes' },
        run.tempDir(),
      );
      expect(problems).to.deep.equal([
        'SCANOPY_METRICS_DURATION_ENTITY_TYPE: expected true or false, got "yes"',
      ]);
    });
  });

  describe('SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES and SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS', () => {
    it('set the caps of learned entity types and operations (defaults 100 and 200)', async () => {
      const dir = run.tempDir();
      expect(loadSettings({}, dir).settings).to.deep.include({
        maxNewEntities: 100,
        maxNewOperations: 200,
      });
      const env = {
        SCANOPY_METRICS_TOKEN: 'tok',
        SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES: '1',
        SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS: '0',
      };
      const { preload, stderr } = run.start(env);
      for (const entityType of ['Widget', 'Gadget']) {
        preload.metrics?.recordEvent({ kind: 'entity', entityType, operation: 'zapped' });
      }
      const text = (await bearer(await run.serve(preload), 'tok')).body;
      expect(
        series(text, 'scanopy_events_total').map((s) => [
          s.labels.entity,
          s.labels.operation,
          s.value,
        ]),
      ).to.deep.equal([
        ['Widget', 'other', 1],
        ['other', 'other', 1],
      ]);
      expect(stderr.filter((line) => line.includes('reached its cap'))).to.have.length(1);
    });

    it('reject anything but a whole number, naming the variable', () => {
      const { problems } = loadSettings(
        {
          SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES: '-1',
          SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS: 'many',
        },
        run.tempDir(),
      );
      expect(problems).to.deep.equal([
        'SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES: expected a whole number from 0 up, got "-1"',
        'SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS: expected a whole number from 0 up, got "many"',
      ]);
    });
  });

  describe('the live instance', () => {
    it('preloaded() is the running instance until stop()', async () => {
      const { preload } = run.start({ SCANOPY_METRICS_TOKEN: 'tok' });
      expect(preload.metrics).to.not.equal(undefined);
      expect(preloaded()).to.equal(preload.metrics);
      await preload.stop();
      expect(preloaded()).to.equal(undefined);
    });
  });
});
