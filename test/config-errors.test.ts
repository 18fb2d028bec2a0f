// A bad configuration never takes the service down: the preload prints exactly one line on
// stderr naming the variable or the file key and what was expected, the service answers as usual,
// and the metrics route is disabled (404).
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { TOKEN, get } from './helpers/preloaded-service';

const SUFFIX = '; the metrics route is disabled (404)';

interface Case {
  title: string;
  /** Variables of the child; `dir` is its (temporary) working directory. */
  env: (dir: string) => Record<string, string>;
  /** otel-config.yaml written in the working directory, if any. */
  file?: string;
  /** The one stderr line, without `scanopy-metrics: ` and the suffix. */
  problem: (dir: string) => string;
  /** Text the line must not contain (a secret). */
  secret?: string;
  /** The end of the line, if not SUFFIX (a token file may still give a token later). */
  suffix?: string;
}

const WAITING = '; the metrics route answers 404 until the file holds a token';

const VIEW_HEAD = `file_format: '1.0'
meter_provider:
  views:
    - selector:
        instrument_name: http_request_duration_seconds
      stream:
`;

const CASES: Case[] = [
  {
    title: 'SCANOPY_METRICS_PATH without a leading slash',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_PATH: 'metrics' }),
    problem: () =>
      'SCANOPY_METRICS_PATH: expected an absolute path such as /metrics, got "metrics"',
  },
  {
    title: 'an unknown OTEL_LOG_LEVEL',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_LOG_LEVEL: 'loud' }),
    problem: () =>
      'OTEL_LOG_LEVEL: expected one of none, error, warn, info, debug, verbose, all, got "loud"',
  },
  {
    title: 'OTEL_SDK_DISABLED neither true nor false',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_SDK_DISABLED: 'yes' }),
    problem: () => 'OTEL_SDK_DISABLED: expected true or false, got "yes"',
  },
  {
    title: 'SCANOPY_METRICS_DISABLED neither true nor false',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_DISABLED: '1' }),
    problem: () => 'SCANOPY_METRICS_DISABLED: expected true or false, got "1"',
  },
  {
    title: 'both SCANOPY_METRICS_TOKEN and SCANOPY_METRICS_TOKEN_FILE',
    env: (dir) => {
      writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
      return { SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') };
    },
    problem: () =>
      'SCANOPY_METRICS_TOKEN_FILE: expected only one of SCANOPY_METRICS_TOKEN and SCANOPY_METRICS_TOKEN_FILE to be set',
    secret: TOKEN,
  },
  {
    title: 'a SCANOPY_METRICS_TOKEN containing white space (the line does not show it)',
    env: () => ({ SCANOPY_METRICS_TOKEN: 'Kx81-secret half-two' }),
    problem: () =>
      'SCANOPY_METRICS_TOKEN: expected tokens without white space, separated by commas or new lines',
    secret: 'Kx81-secret',
  },
  {
    title: 'a token file whose token contains white space (the line does not show it)',
    env: (dir) => {
      writeFileSync(path.join(dir, 'token'), 'Kx81-secret half-two\n');
      return { SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') };
    },
    problem: (dir) =>
      `SCANOPY_METRICS_TOKEN_FILE: ${path.join(dir, 'token')}: expected tokens without white space, separated by commas or new lines`,
    secret: 'Kx81-secret',
    suffix: WAITING,
  },
  {
    title: 'a missing token file',
    env: (dir) => ({ SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'no-such-token') }),
    problem: (dir) =>
      `SCANOPY_METRICS_TOKEN_FILE: ${path.join(dir, 'no-such-token')}: cannot be read (ENOENT)`,
    suffix: WAITING,
  },
  {
    title: 'an unknown name in OTEL_NODE_ENABLED_INSTRUMENTATIONS',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,grpc' }),
    problem: () =>
      'OTEL_NODE_ENABLED_INSTRUMENTATIONS: expected a comma-separated list of http, runtime-node, got "grpc"',
  },
  {
    title: 'a SCANOPY_METRICS_ENTITY_TYPE_KEY that is no property name',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_ENTITY_TYPE_KEY: 'entity-type' }),
    problem: () =>
      'SCANOPY_METRICS_ENTITY_TYPE_KEY: expected a property name such as entityType, got "entity-type"',
  },
  {
    title: 'bad percent-encoding in OTEL_RESOURCE_ATTRIBUTES',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_RESOURCE_ATTRIBUTES: 'team=50%zz' }),
    problem: () => 'OTEL_RESOURCE_ATTRIBUTES: invalid percent-encoding in the value of "team"',
  },
  {
    title: 'two bad variables: both named, in one line',
    env: () => ({
      SCANOPY_METRICS_TOKEN: TOKEN,
      SCANOPY_METRICS_PATH: 'metrics',
      OTEL_LOG_LEVEL: 'loud',
    }),
    problem: () =>
      'OTEL_LOG_LEVEL: expected one of none, error, warn, info, debug, verbose, all, got "loud"; ' +
      'SCANOPY_METRICS_PATH: expected an absolute path such as /metrics, got "metrics"',
  },
  {
    title: 'OTEL_CONFIG_FILE naming a missing file',
    env: (dir) => ({
      SCANOPY_METRICS_TOKEN: TOKEN,
      OTEL_CONFIG_FILE: path.join(dir, 'missing.yaml'),
    }),
    problem: (dir) =>
      `OTEL_CONFIG_FILE: ${path.join(dir, 'missing.yaml')}: cannot be read (ENOENT)`,
  },
  {
    title: 'an unknown key in otel-config.yaml, named with its path',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `${VIEW_HEAD}        agregation_cardinality_limit: 10\n`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: meter_provider.views[0].stream.agregation_cardinality_limit: unknown key (expected one of: name, description, aggregation, aggregation_cardinality_limit, attribute_keys)`,
  },
  {
    title: 'a string among the bucket boundaries in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `${VIEW_HEAD}        aggregation:\n          explicit_bucket_histogram:\n            boundaries: [0.1, "one", 1]\n`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: meter_provider.views[0].stream.aggregation.explicit_bucket_histogram.boundaries[1]: expected a number, got string "one"`,
  },
  {
    title: 'bucket boundaries out of order in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `${VIEW_HEAD}        aggregation:\n          explicit_bucket_histogram:\n            boundaries: [1, 0.5]\n`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: meter_provider.views[0].stream.aggregation.explicit_bucket_histogram.boundaries: expected strictly increasing numbers, got [1, 0.5]`,
  },
  {
    title: 'a mistyped cardinality limit in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `file_format: '1.0'
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development: {}
        cardinality_limits:
          default: many
`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: meter_provider.readers[0].pull.cardinality_limits.default: expected a number, got string "many"`,
  },
  {
    title: 'a path in otel-config.yaml without a leading slash',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `file_format: '1.0'
instrumentation/development:
  js:
    scanopy-metrics:
      path: metrics
`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: instrumentation/development.js.scanopy-metrics.path: expected an absolute path such as /metrics, got "metrics"`,
  },
  {
    title: 'an unsupported file_format',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '2.0'\n",
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: file_format: expected "1.0" or "1.1", got "2.0"`,
  },
  {
    title: 'a malformed ${1BAD} substitution in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: `file_format: '1.0'
resource:
  attributes:
    - name: team
      value: \${1BAD}
`,
    problem: (dir) =>
      `${path.join(dir, 'otel-config.yaml')}: invalid substitution "\${1BAD}": expected \${NAME} or \${NAME:-default}`,
  },
];

/** `text` as a literal inside a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const INVALID_YAML = "file_format: '1.0'\nresource: [\n";

describe('bad configuration', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  /** Starts the fixture in `dir` (with `file` as its otel-config.yaml), checks it serves. */
  async function startBroken(dir: string, env: Record<string, string>, file?: string, esm = false) {
    if (file !== undefined) writeFileSync(path.join(dir, 'otel-config.yaml'), file);
    const service = await children.start({
      fixture: fixture(esm ? 'service.mjs' : 'service.cjs'),
      nodeArgs: esm ? IMPORT_PRELOAD : REQUIRE_PRELOAD,
      env,
      cwd: dir,
    });
    const hosts = await get(service.url, '/api/v1/hosts/1');
    expect(hosts.status).to.equal(200);
    expect(JSON.parse(hosts.body)).to.deep.equal({ app: 'app1', id: '1' });
    for (const headers of [{}, { Authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const response = await get(service.url, '/metrics', headers);
      expect(response.status).to.equal(404);
      expect(response.body).to.equal('Metrics not enabled');
    }
    await service.stop();
    return service;
  }

  for (const c of CASES) {
    it(`${c.title}: one stderr line, the service runs, /metrics is 404`, async () => {
      const dir = children.tempDir();
      const service = await startBroken(dir, c.env(dir), c.file);
      expect(service.stderrLines()).to.deep.equal([
        `scanopy-metrics: ${c.problem(dir)}${c.suffix ?? SUFFIX}`,
      ]);
      if (c.secret !== undefined) expect(service.stderr()).to.not.contain(c.secret);
    });
  }

  it('with --import (ES-module service) too: one stderr line, the service runs, /metrics is 404', async () => {
    const dir = children.tempDir();
    const env = { SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_PATH: 'metrics' };
    const service = await startBroken(dir, env, undefined, true);
    expect(service.stderrLines()).to.deep.equal([
      `scanopy-metrics: SCANOPY_METRICS_PATH: expected an absolute path such as /metrics, got "metrics"${SUFFIX}`,
    ]);
  });

  it('invalid YAML in otel-config.yaml: one stderr line, the service runs, /metrics is 404', async () => {
    const dir = children.tempDir();
    const service = await startBroken(dir, { SCANOPY_METRICS_TOKEN: TOKEN }, INVALID_YAML);
    const lines = service.stderrLines();
    expect(lines).to.have.length(1);
    // Whether it names the line of the error is the next test's concern.
    expect(lines[0]).to.match(
      new RegExp(
        `^scanopy-metrics: ${escape(path.join(dir, 'otel-config.yaml'))}: invalid YAML( \\(line \\d+\\))?: ` +
          `Flow sequence in block collection must be sufficiently indented and end with a \\]${escape(SUFFIX)}$`,
      ),
    );
  });

  it('invalid YAML in otel-config.yaml: the line names the line of the error', async () => {
    const dir = children.tempDir();
    const service = await startBroken(dir, { SCANOPY_METRICS_TOKEN: TOKEN }, INVALID_YAML);
    expect(service.stderrLines()).to.deep.equal([
      `scanopy-metrics: ${path.join(dir, 'otel-config.yaml')}: invalid YAML (line 3): Flow sequence in block collection must be sufficiently indented and end with a ]${SUFFIX}`,
    ]);
  });
});
