// A configuration error never quotes a secret: not a configured token (from SCANOPY_METRICS_TOKEN
// or the token file), not a value that contains one, not a value substituted into otel-config.yaml
// from a secret-looking variable (…TOKEN, …SECRET, …PASSWORD, …KEY). The line still names the
// variable or key and what was expected; values that are no secret are still quoted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children } from './helpers/child';
import { InProcess } from './helpers/in-process';
import { refusedConfigLines } from './helpers/refused-config';

const SECRET = 'Rd7-secret-token-0c4e1b92';
const HIDDEN = '(a value holding a secret, not shown)';
const SUFFIX = '; the metrics route is disabled (404)';
const LEVELS = 'none, error, warn, info, debug, verbose, all';

interface Case {
  title: string;
  env: (dir: string) => Record<string, string>;
  /** otel-config.yaml in the working directory. */
  file?: string;
  /** The line, without `scanopy-metrics: ` and the suffix; `file` is otel-config.yaml's path. */
  problem: (file: string, dir: string) => string;
  /** What must not appear on stderr. */
  secrets?: string[];
}

const ours = (body: string) =>
  `file_format: '1.0'\ninstrumentation/development:\n  js:\n    scanopy-metrics:\n      ${body}\n`;
const AT = 'instrumentation/development.js.scanopy-metrics';
const withToken = { SCANOPY_METRICS_TOKEN: SECRET };

const CASES: Case[] = [
  {
    title: 'OTEL_CONFIG_FILE pointing at the token file',
    env: (dir) => {
      writeFileSync(path.join(dir, 'token'), `${SECRET}\n`);
      return {
        SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token'),
        OTEL_CONFIG_FILE: path.join(dir, 'token'),
      };
    },
    problem: (_, dir) =>
      `${path.join(dir, 'token')}: (top level): expected a mapping, got a string`,
  },
  {
    title: 'OTEL_CONFIG_FILE pointing at some other secret file (nothing of it is quoted)',
    env: (dir) => {
      writeFileSync(path.join(dir, 'db-password'), 'hunter2-db-secret\n');
      return { ...withToken, OTEL_CONFIG_FILE: path.join(dir, 'db-password') };
    },
    problem: (_, dir) =>
      `${path.join(dir, 'db-password')}: (top level): expected a mapping, got a string`,
    secrets: ['hunter2-db-secret'],
  },
  {
    title: '${SCANOPY_METRICS_TOKEN} substituted into the path',
    env: () => withToken,
    file: ours('path: ${SCANOPY_METRICS_TOKEN}'),
    problem: (file) =>
      `${file}: ${AT}.path: expected an absolute path such as /metrics, got ${HIDDEN}`,
  },
  {
    title: '${SCANOPY_METRICS_TOKEN} substituted into log_level',
    env: () => withToken,
    file: "file_format: '1.0'\nlog_level: ${SCANOPY_METRICS_TOKEN}\n",
    problem: (file) => `${file}: log_level: expected one of ${LEVELS}, got ${HIDDEN}`,
  },
  {
    title: '${SCANOPY_METRICS_TOKEN} substituted into file_format',
    env: () => withToken,
    file: 'file_format: ${SCANOPY_METRICS_TOKEN}\n',
    problem: (file) => `${file}: file_format: expected "1.0" or "1.1", got ${HIDDEN}`,
  },
  {
    title: '${SCANOPY_METRICS_TOKEN} substituted into disabled',
    env: () => withToken,
    file: "file_format: '1.0'\ndisabled: ${SCANOPY_METRICS_TOKEN}\n",
    problem: (file) => `${file}: disabled: expected true or false, got string ${HIDDEN}`,
  },
  {
    title: '${SCANOPY_METRICS_TOKEN} substituted into resource.attributes_list',
    env: () => withToken,
    file: "file_format: '1.0'\nresource:\n  attributes_list: ${SCANOPY_METRICS_TOKEN}\n",
    problem: (file) =>
      `${file}: resource.attributes_list: expected key=value pairs separated by commas, got ${HIDDEN}`,
  },
  {
    title: 'a token with a quote and a backslash, substituted into disabled',
    env: () => ({ SCANOPY_METRICS_TOKEN: 'Qx"quote\\slash-5521a' }),
    file: "file_format: '1.0'\ndisabled: ${SCANOPY_METRICS_TOKEN}\n",
    problem: (file) => `${file}: disabled: expected true or false, got string ${HIDDEN}`,
    secrets: ['Qx"quote\\slash-5521a', 'Qx\\"quote\\\\slash-5521a', 'quote'],
  },
  {
    title: 'a value containing the token, substituted with text around it',
    env: () => withToken,
    file: ours('path: metrics-${SCANOPY_METRICS_TOKEN}-x'),
    problem: (file) =>
      `${file}: ${AT}.path: expected an absolute path such as /metrics, got ${HIDDEN}`,
  },
  {
    title: 'a secret-looking variable (DB_PASSWORD) substituted into log_level',
    env: () => ({ ...withToken, DB_PASSWORD: 'pw-6f1d0a-hunter2' }),
    file: "file_format: '1.0'\nlog_level: ${DB_PASSWORD}\n",
    problem: (file) => `${file}: log_level: expected one of ${LEVELS}, got ${HIDDEN}`,
    secrets: ['pw-6f1d0a-hunter2'],
  },
  {
    title: 'a secret-looking variable (API_KEY) substituted into a resource attribute list',
    env: () => ({ ...withToken, API_KEY: 'ak-77aa0c' }),
    file: "file_format: '1.0'\nresource:\n  attributes_list: team=${API_KEY},oops\n",
    problem: (file) =>
      `${file}: resource.attributes_list: expected key=value pairs separated by commas, got "oops"`,
    secrets: ['ak-77aa0c'],
  },
  {
    title: 'SCANOPY_METRICS_PATH set to the token',
    env: () => ({ ...withToken, SCANOPY_METRICS_PATH: SECRET }),
    problem: () =>
      `SCANOPY_METRICS_PATH: expected an absolute path such as /metrics, got ${HIDDEN}`,
  },
  {
    title: 'OTEL_RESOURCE_ATTRIBUTES set to the token',
    env: () => ({ ...withToken, OTEL_RESOURCE_ATTRIBUTES: SECRET }),
    problem: () =>
      `OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got ${HIDDEN}`,
  },
  {
    title: 'OTEL_LOG_LEVEL set to a value containing the token file’s token',
    env: (dir) => {
      writeFileSync(path.join(dir, 'token'), `${SECRET}\n`);
      return { SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token'), OTEL_LOG_LEVEL: `x${SECRET}` };
    },
    problem: () => `OTEL_LOG_LEVEL: expected one of ${LEVELS}, got ${HIDDEN}`,
  },
  {
    title: 'a value that is no secret is still quoted (substituted from MY_LEVEL)',
    env: () => ({ ...withToken, MY_LEVEL: 'loud' }),
    file: "file_format: '1.0'\nlog_level: ${MY_LEVEL}\n",
    problem: (file) => `${file}: log_level: expected one of ${LEVELS}, got "loud"`,
  },
];

describe('configuration errors never quote a secret', () => {
  const children = new Children();
  const run = new InProcess();
  afterEach(async () => {
    await children.stopAll();
    await run.stopAll();
  });

  for (const [index, c] of CASES.entries()) {
    it(`${c.title}: one line, without the secret`, async () => {
      const dir = run.tempDir();
      const file = path.join(dir, 'otel-config.yaml');
      if (c.file !== undefined) writeFileSync(file, c.file);
      const lines = await refusedConfigLines(children, run, c.env(dir), dir, SECRET, index === 0);
      expect(lines).to.deep.equal([`scanopy-metrics: ${c.problem(file, dir)}${SUFFIX}`]);
      for (const secret of [SECRET, ...(c.secrets ?? [])]) {
        expect(lines.join('\n')).to.not.contain(secret);
      }
    });
  }
});
