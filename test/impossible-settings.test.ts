// Settings that cannot work are refused with one clear stderr line rather than accepted: a limit
// too large to be a number (Infinity would mean no limit), a token no Authorization header can
// carry within Node's header limit, a path no request target can reach, a `__proto__` key in
// otel-config.yaml. The service runs, the route is disabled, nothing secret is quoted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children } from './helpers/child';
import { InProcess } from './helpers/in-process';
import { refusedConfigLines } from './helpers/refused-config';
import { TOKEN } from './helpers/preloaded-service';

const SUFFIX = '; the metrics route is disabled (404)';
const WAITING = '; the metrics route answers 404 until the file holds a token';
const LONG_TOKEN = 'L'.repeat(16_384);

interface Case {
  title: string;
  env: (dir: string) => Record<string, string>;
  file?: string;
  line: (file: string, dir: string) => string;
}

const CASES: Case[] = [
  {
    title: 'a 400-digit SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE',
    env: () => ({
      SCANOPY_METRICS_TOKEN: TOKEN,
      SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '9'.repeat(400),
    }),
    line: () =>
      `SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: expected a whole number from 0 to 9007199254740991, got a number of 400 digits${SUFFIX}`,
  },
  {
    title: 'SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE just past the safe integers',
    env: () => ({
      SCANOPY_METRICS_TOKEN: TOKEN,
      SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '9007199254740992',
    }),
    line: () =>
      `SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: expected a whole number from 0 to 9007199254740991, got "9007199254740992"${SUFFIX}`,
  },
  {
    title: 'auth_failures_per_minute: 1e400 in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      auth_failures_per_minute: 1e400\n",
    line: (file) =>
      `${file}: instrumentation/development.js.scanopy-metrics.auth_failures_per_minute: expected a number, got number Infinity${SUFFIX}`,
  },
  {
    title: 'auth_failures_per_minute: 2^60 in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      auth_failures_per_minute: 1152921504606846976\n",
    line: (file) =>
      `${file}: instrumentation/development.js.scanopy-metrics.auth_failures_per_minute: expected an integer from 0 to 9007199254740991, got 1152921504606847000${SUFFIX}`,
  },
  {
    title: 'a SCANOPY_METRICS_SCRAPE_TIMEOUT_MS longer than a Node timer can wait',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_SCRAPE_TIMEOUT_MS: '9999999999' }),
    line: () =>
      `SCANOPY_METRICS_SCRAPE_TIMEOUT_MS: expected a whole number of milliseconds from 0 to 2147483647, got "9999999999"${SUFFIX}`,
  },
  {
    title: 'an OTEL_METRIC_EXPORT_INTERVAL longer than a Node timer can wait',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_METRIC_EXPORT_INTERVAL: '2147483648' }),
    line: () =>
      `OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds from 1 to 2147483647, got "2147483648"${SUFFIX}`,
  },
  {
    title: 'scrape_timeout_ms longer than a Node timer can wait, in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      scrape_timeout_ms: 9999999999\n",
    line: (file) =>
      `${file}: instrumentation/development.js.scanopy-metrics.scrape_timeout_ms: expected a number <= 2147483647, got 9999999999${SUFFIX}`,
  },
  {
    title: 'a SCANOPY_METRICS_TOKEN longer than Node’s header limit',
    env: () => ({ SCANOPY_METRICS_TOKEN: LONG_TOKEN }),
    line: () =>
      `SCANOPY_METRICS_TOKEN: a token is longer than an Authorization header can carry within Node's header limit (16384 bytes, --max-http-header-size)${SUFFIX}`,
  },
  {
    title: 'a token file with a token longer than Node’s header limit',
    env: (dir) => {
      writeFileSync(path.join(dir, 'token'), `${LONG_TOKEN}\n`);
      return { SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') };
    },
    line: (_, dir) =>
      `SCANOPY_METRICS_TOKEN_FILE: ${path.join(dir, 'token')}: a token is longer than an Authorization header can carry within Node's header limit (16384 bytes, --max-http-header-size)${WAITING}`,
  },
  {
    title: 'a non-ASCII SCANOPY_METRICS_PATH (/metricsé)',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN, SCANOPY_METRICS_PATH: '/metricsé' }),
    line: () =>
      `SCANOPY_METRICS_PATH: expected a path of printable ASCII characters (a request cannot reach "é" unencoded), got "/metricsé"${SUFFIX}`,
  },
  {
    title: 'a non-ASCII path in otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      path: /métriques\n",
    line: (file) =>
      `${file}: instrumentation/development.js.scanopy-metrics.path: expected a path of printable ASCII characters (a request cannot reach "é" unencoded), got "/métriques"${SUFFIX}`,
  },
  {
    title: 'a __proto__ key at the top of otel-config.yaml',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\n__proto__:\n  disabled: true\n",
    line: (file) => `${file}: __proto__: a key named __proto__ is not allowed${SUFFIX}`,
  },
  {
    title: 'a __proto__ key deep in otel-config.yaml, named with its path',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\nmeter_provider:\n  views:\n    - selector:\n        __proto__: [1]\n      stream: {}\n",
    line: (file) =>
      `${file}: meter_provider.views[0].selector.__proto__: a key named __proto__ is not allowed${SUFFIX}`,
  },
  {
    title: 'a __proto__ key in a section other tools own',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\ninstrumentation/development:\n  js:\n    other-tool:\n      __proto__: {}\n",
    line: (file) =>
      `${file}: instrumentation/development.js.other-tool.__proto__: a key named __proto__ is not allowed${SUFFIX}`,
  },
  {
    title: 'a constructor key where the schema has none (an unknown key, not a crash)',
    env: () => ({ SCANOPY_METRICS_TOKEN: TOKEN }),
    file: "file_format: '1.0'\nresource:\n  constructor: 1\n",
    line: (file) =>
      `${file}: resource.constructor: unknown key (expected one of: attributes, attributes_list, schema_url)${SUFFIX}`,
  },
];

describe('settings that cannot work are refused', () => {
  const children = new Children();
  const run = new InProcess();
  afterEach(async () => {
    await children.stopAll();
    await run.stopAll();
  });

  for (const [index, c] of CASES.entries()) {
    it(`${c.title}: one line, the service runs, /metrics is 404`, async () => {
      const dir = run.tempDir();
      const file = path.join(dir, 'otel-config.yaml');
      if (c.file !== undefined) writeFileSync(file, c.file);
      const lines = await refusedConfigLines(children, run, c.env(dir), dir, TOKEN, index === 0);
      expect(lines).to.deep.equal([`scanopy-metrics: ${c.line(file, dir)}`]);
      expect(lines.join('\n')).to.not.contain(LONG_TOKEN.slice(0, 64));
    });
  }
});
