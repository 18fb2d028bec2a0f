// otel-config.yaml: the shipped file is the built-in defaults, ${VAR:-default} substitution, and
// validation with the key's path. Resolved in-process with loadSettings/startPreload, plus child
// services started by the package's name from the package directory (where the shipped file is).
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULT_BUCKETS, DEFAULT_SETTINGS, loadSettings } from 'scanopy-metrics';
import type { Settings } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { Children, REPO, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { metricTypes, parseExposition, requestsTotal, series } from './helpers/exposition';
import { InProcess } from './helpers/in-process';
import { TOKEN, get, post, scrapeChild } from './helpers/preloaded-service';

const SHIPPED = path.join(REPO, 'otel-config.yaml');

/** Writes `text` as otel-config.yaml in a new temporary directory; returns the directory. */
function withFile(run: InProcess, text: string): { dir: string; file: string } {
  const dir = run.tempDir();
  const file = path.join(dir, 'otel-config.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

/** The samples of an exposition as `name{labels} value`, without target_info. */
function withoutTargetInfo(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^(# (HELP|TYPE) )?target_info\b/.test(line))
    .join('\n');
}

describe('configuration: otel-config.yaml', () => {
  const run = new InProcess();
  const children = new Children();
  afterEach(async () => {
    await children.stopAll();
    await run.stopAll();
  });

  describe('the shipped file', () => {
    it('is valid and sets exactly the built-in defaults', () => {
      const { settings, problems } = loadSettings({}, REPO);
      expect(problems).to.deep.equal([]);
      expect(settings.configFile).to.equal(SHIPPED);
      const same: (keyof Settings)[] = [
        'disabled',
        'logLevel',
        'tokens',
        'path',
        'entityTypeKey',
        'authFailuresPerMinute',
        'withoutScopeInfo',
        'withoutTargetInfo',
        'cardinalityLimit',
        'events',
        'instrumentations',
        'durationEntityType',
        'maxNewEntities',
        'maxNewOperations',
      ];
      for (const key of same) {
        expect(settings[key], key).to.deep.equal(DEFAULT_SETTINGS[key]);
      }
      // The views it spells out are the ones built in: Prometheus's buckets, every label kept.
      expect(settings.views).to.deep.equal({
        http_request_duration_seconds: { boundaries: [...DEFAULT_BUCKETS] },
        http_requests_total: { attributeKeys: ['method', 'path', 'status', 'entity_type'] },
      });
      expect(settings.resourceAttributes).to.deep.equal({});
    });

    it('read or not, the exposition is the same (in-process, same recordings)', async () => {
      const env = { SCANOPY_METRICS_TOKEN: TOKEN };
      const texts: string[] = [];
      for (const cwd of [REPO, run.tempDir()]) {
        const { preload, stderr } = run.start(env, cwd);
        expect(stderr).to.deep.equal([]);
        const metrics = preload.metrics!;
        metrics.pipeline.instruments.recordRequest('GET', '/a/:id', '200', 'user', 0.02);
        metrics.pipeline.instruments.recordRequest('GET', '/a/:id', '200', 'user', 0.3);
        metrics.pipeline.instruments.recordRequest('POST', '/b', '500', 'daemon', 12);
        metrics.recordEvent({ kind: 'entity', entityType: 'Host', operation: 'created' });
        texts.push(withoutTargetInfo(await metrics.scrape()));
        await preload.stop();
      }
      expect(texts[0]).to.contain('http_request_duration_seconds_bucket');
      expect(texts[0]).to.equal(texts[1]);
    });

    it('`--require scanopy-metrics/register` from the package directory reads it; same exposition as without it', async () => {
      const shipped = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: ['--require', 'scanopy-metrics/register'],
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
        cwd: REPO,
      });
      const bare = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
      });
      const texts: string[] = [];
      for (const service of [shipped, bare]) {
        await get(service.url, '/api/v1/hosts/1', { 'x-entity-type': 'user' });
        await get(service.url, '/api/v1/hosts/2');
        await get(service.url, '/nope');
        await post(service.url, '/publish?n=3');
        texts.push(await scrapeChild(service.url));
      }
      expect(metricTypes(texts[0])).to.deep.equal(metricTypes(texts[1]));
      // Durations differ between runs: compare every series, and every value but sums and buckets.
      const shape = (text: string) =>
        parseExposition(text).map((s) => ({
          name: s.name,
          labels: s.labels,
          value: /_(sum|bucket)$/.test(s.name) ? 'timing' : s.value,
        }));
      expect(shape(texts[0])).to.deep.equal(shape(texts[1]));
      expect(series(texts[0], 'target_info')[0].labels.service_name).to.equal(
        'unknown_service:node',
      );
      expect(shipped.stderr()).to.equal('');
    });

    it('`--import scanopy-metrics/register` from the package directory works too', async () => {
      const service = await children.start({
        fixture: fixture('service.mjs'),
        nodeArgs: ['--import', 'scanopy-metrics/register'],
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
        cwd: REPO,
      });
      await get(service.url, '/api/v1/hosts/1');
      const text = await scrapeChild(service.url);
      expect(requestsTotal(text, 'GET', '/api/v1/hosts/:id', '200')).to.equal(1);
      expect(service.stderr()).to.equal('');
    });

    it("its service.name is the SDK's default however node was started (argv0 an absolute path)", async () => {
      const targetInfo: Record<string, string>[] = [];
      for (const cwd of [REPO, undefined]) {
        const service = await children.start({
          fixture: fixture('service.cjs'),
          nodeArgs: REQUIRE_PRELOAD,
          env: { SCANOPY_METRICS_TOKEN: TOKEN },
          cwd,
          // As a Dockerfile's exec-form CMD ["/usr/local/bin/node", ...] starts it.
          argv0: process.execPath,
        });
        targetInfo.push(series(await scrapeChild(service.url), 'target_info')[0].labels);
      }
      expect(targetInfo[0]).to.deep.equal(targetInfo[1]);
    });
  });

  describe('${VAR:-default} substitution', () => {
    const TEXT = `file_format: '1.0'
disabled: \${SUB_DISABLED:-false}
log_level: \${SUB_LEVEL:-warn}
resource:
  attributes:
    - name: service.name
      value: \${SUB_NAME:-from-default}
    - name: env.form
      value: \${env:SUB_NAME}
    - name: literal
      value: 'costs $$5'
    - name: structured
      value: \${SUB_STRUCTURED:-plain}
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development:
            without_scope_info: \${SUB_SCOPE:-true}
        cardinality_limits:
          default: \${SUB_LIMIT:-100}
instrumentation/development:
  js:
    scanopy-metrics:
      path: \${SUB_PATH:-/sub-default}
`;

    /** The file was read without problems, into these values of the substituted keys. */
    function expectSubstituted(
      { settings, problems }: ReturnType<typeof loadSettings>,
      expected: Pick<
        Settings,
        'disabled' | 'logLevel' | 'withoutScopeInfo' | 'cardinalityLimit' | 'path'
      >,
    ): void {
      expect(problems).to.deep.equal([]);
      expect(settings.disabled).to.equal(expected.disabled);
      expect(settings.logLevel).to.equal(expected.logLevel);
      expect(settings.withoutScopeInfo).to.equal(expected.withoutScopeInfo);
      expect(settings.cardinalityLimit).to.equal(expected.cardinalityLimit);
      expect(settings.path).to.equal(expected.path);
    }

    it('unset or empty: the default, taking its YAML type in a plain scalar', () => {
      const { dir } = withFile(run, TEXT);
      for (const env of [{}, { SUB_DISABLED: '', SUB_NAME: '', SUB_LIMIT: '', SUB_PATH: '' }]) {
        const loaded = loadSettings(env, dir);
        expectSubstituted(loaded, {
          disabled: false,
          logLevel: 'warn',
          withoutScopeInfo: true,
          cardinalityLimit: 100,
          path: '/sub-default',
        });
        expect(loaded.settings.resourceAttributes).to.deep.equal({
          'service.name': 'from-default',
          'env.form': '',
          literal: 'costs $5',
          structured: 'plain',
        });
      }
    });

    it('set: the variable, typed as YAML in a plain scalar', () => {
      const { dir } = withFile(run, TEXT);
      const loaded = loadSettings(
        {
          SUB_DISABLED: 'true',
          SUB_LEVEL: 'error',
          SUB_NAME: 'from-env',
          SUB_SCOPE: 'false',
          SUB_LIMIT: '7',
          SUB_PATH: '/sub-env',
        },
        dir,
      );
      expectSubstituted(loaded, {
        disabled: true,
        logLevel: 'error',
        withoutScopeInfo: false,
        cardinalityLimit: 7,
        path: '/sub-env',
      });
      expect(loaded.settings.resourceAttributes).to.deep.include({
        'service.name': 'from-env',
        'env.form': 'from-env',
      });
    });

    it('a quoted scalar stays a string: `disabled: "${X:-false}"` is no boolean', () => {
      const { dir, file } = withFile(run, `file_format: '1.0'\ndisabled: '\${X:-false}'\n`);
      expect(loadSettings({}, dir).problems).to.deep.equal([
        `${file}: disabled: expected true or false, got string "false"`,
      ]);
      const plain = withFile(run, `file_format: '1.0'\ndisabled: \${X:-false}\n`);
      expect(loadSettings({}, plain.dir)).to.deep.include({ problems: [] });
    });

    it('a value that reads as a YAML list or mapping stays a string (no structure is injected)', () => {
      const { dir } = withFile(run, TEXT);
      for (const value of ['[a, b]', 'k: v', '{x: 1}']) {
        const { settings, problems } = loadSettings({ SUB_STRUCTURED: value }, dir);
        expect(problems).to.deep.equal([]);
        expect(settings.resourceAttributes.structured).to.equal(value);
      }
    });

    it('a value that is not valid YAML (@team, *x, [beta) stays a string, nothing is thrown', () => {
      const { dir } = withFile(run, TEXT);
      for (const value of ['@team', '*x', '[beta']) {
        let result: ReturnType<typeof loadSettings> | undefined;
        expect(() => (result = loadSettings({ SUB_STRUCTURED: value }, dir)), value).to.not.throw();
        expect(result?.problems).to.deep.equal([]);
        expect(result?.settings.resourceAttributes.structured).to.equal(value);
      }
    });

    it('a preloaded service whose substituted attribute is not valid YAML still serves metrics', async () => {
      const dir = children.tempDir();
      writeFileSync(
        path.join(dir, 'otel-config.yaml'),
        `file_format: '1.0'\nresource:\n  attributes:\n    - name: owner\n      value: \${OWNER}\n`,
      );
      const service = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, OWNER: '@team' },
        cwd: dir,
      });
      expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
      const response = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
      await service.stop();
      expect(service.stderrLines()).to.deep.equal([]);
      expect(response.status).to.equal(200);
      expect(series(response.body, 'target_info')[0].labels.owner).to.equal('@team');
    });

    it('a malformed reference is reported with the file, and the route stays off', async () => {
      const cases: [string, string][] = [
        ['${1BAD}', 'invalid substitution "${1BAD}": expected ${NAME} or ${NAME:-default}'],
        ['${A-B}', 'invalid substitution "${A-B}": expected ${NAME} or ${NAME:-default}'],
        ['x${OPEN', 'unterminated "${" in "x${OPEN"'],
      ];
      for (const [value, problem] of cases) {
        const { dir, file } = withFile(
          run,
          `file_format: '1.0'\nresource:\n  attributes:\n    - name: a\n      value: ${value}\n`,
        );
        expect(loadSettings({}, dir).problems, value).to.deep.equal([`${file}: ${problem}`]);
      }
      const { dir, file } = withFile(
        run,
        `file_format: '1.0'\nresource:\n  attributes:\n    - name: a\n      value: \${1BAD}\n`,
      );
      const { preload, stderr } = run.start({ SCANOPY_METRICS_TOKEN: TOKEN }, dir);
      expect(stderr).to.deep.equal([
        `scanopy-metrics: ${file}: invalid substitution "\${1BAD}": expected \${NAME} or \${NAME:-default}; the metrics route is disabled (404)`,
      ]);
      const url = await run.serve(preload);
      const response = await get(url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
      expect(response.status).to.equal(404);
    });

    it('keys are never substituted', () => {
      const { dir, file } = withFile(run, `file_format: '1.0'\nresource:\n  \${RES_KEY}: x\n`);
      expect(loadSettings({ RES_KEY: 'attributes_list' }, dir).problems).to.deep.equal([
        `${file}: resource.\${RES_KEY}: unknown key (expected one of: attributes, attributes_list, schema_url)`,
      ]);
    });
  });

  describe('validation', () => {
    it('reports every problem of a file, each with its path', () => {
      const { dir, file } = withFile(
        run,
        `file_format: '1.0'
log_level: loud
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development:
            without_scope_info: 'no'
  views:
    - selector:
        instrument_type: summary
      stream:
        aggregation_cardinality_limit: 0
`,
      );
      expect(loadSettings({}, dir).problems).to.deep.equal([
        `${file}: log_level: expected one of none, error, warn, info, debug, verbose, all, got "loud"`,
        `${file}: meter_provider.readers[0].pull.exporter.prometheus/development.without_scope_info: expected true or false, got string "no"`,
        `${file}: meter_provider.views[0].selector.instrument_type: expected one of counter, gauge, histogram, observable_counter, observable_gauge, observable_up_down_counter, up_down_counter, got "summary"`,
        `${file}: meter_provider.views[0].stream.aggregation_cardinality_limit: expected a number >= 1, got 0`,
      ]);
    });

    it('accepts and ignores the sections other OTel tools own', () => {
      const { dir } = withFile(
        run,
        `file_format: '1.0-rc.2'
tracer_provider: {}
propagator: { composite: [] }
resource:
  detection/development: {}
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development:
            host: 0.0.0.0
            port: 9464
instrumentation/development:
  js:
    http: { enabled: true }
  java: {}
`,
      );
      expect(loadSettings({}, dir).problems).to.deep.equal([]);
    });

    it('reads duration_entity_type, enabled_instrumentations and the learning caps; the environment wins', () => {
      const { dir } = withFile(
        run,
        `file_format: '1.0'
instrumentation/development:
  js:
    scanopy-metrics:
      duration_entity_type: true
      enabled_instrumentations: [runtime-node, http, runtime-node]
      events:
        max_new_entities: 5
        max_new_operations: 0
`,
      );
      const fromFile = loadSettings({}, dir);
      expect(fromFile.problems).to.deep.equal([]);
      expect(fromFile.settings).to.deep.include({
        durationEntityType: true,
        instrumentations: ['runtime-node', 'http'],
        maxNewEntities: 5,
        maxNewOperations: 0,
      });
      const env = {
        SCANOPY_METRICS_DURATION_ENTITY_TYPE: 'false',
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
        SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES: '7',
      };
      expect(loadSettings(env, dir).settings).to.deep.include({
        durationEntityType: false,
        instrumentations: ['http'],
        maxNewEntities: 7,
        maxNewOperations: 0,
      });
    });

    it('names a mistyped new key with its path', () => {
      const { dir, file } = withFile(
        run,
        `file_format: '1.0'
instrumentation/development:
  js:
    scanopy-metrics:
      duration_entity_type: 'yes'
      enabled_instrumentations: [runtime]
      events:
        max_new_entities: -1
`,
      );
      const at = `${file}: instrumentation/development.js.scanopy-metrics`;
      expect(loadSettings({}, dir).problems).to.deep.equal([
        `${at}.duration_entity_type: expected true or false, got string "yes"`,
        `${at}.enabled_instrumentations[0]: expected one of http, runtime-node, got "runtime"`,
        `${at}.events.max_new_entities: expected a number >= 0, got -1`,
      ]);
    });

    it('requires file_format', () => {
      const { dir, file } = withFile(run, 'disabled: false\n');
      expect(loadSettings({}, dir).problems).to.deep.equal([`${file}: file_format: required`]);
    });
  });
});
