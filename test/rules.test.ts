// The shipped Prometheus rules (deploy/rules/): `promtool check rules` on both files, and
// `promtool test rules` on their unit tests (test/rules/), which must give every alert a case
// where it fires and one where it must not, and assert every recorded series.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { parse, stringify } from 'yaml';

import { REPO, RULE_FILES } from '../demo/dashboard';
import { expect } from './helpers/chai';
import { PROMTOOL } from './helpers/promtool';

const TESTS_DIR = path.join(REPO, 'test', 'rules');
const ALERT_TESTS = path.join(TESTS_DIR, 'alerts.test.yml');
const RECORDING_TESTS = path.join(TESTS_DIR, 'recording.test.yml');

function promtool(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) =>
      reject(new Error(`cannot run ${PROMTOOL} (apt-get install prometheus): ${error.message}`)),
    );
    child.once('close', (code) => resolve({ code, output }));
  });
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

interface UnitTests {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
    promql_expr_test?: { expr: string }[];
  }[];
}

const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;
const [RECORDING_FILE, ALERTS_FILE] = RULE_FILES;
const rules = (file: string) => readYaml<RuleFile>(file).groups.flatMap((g) => g.rules);

describe('Prometheus rules (deploy/rules/)', function () {
  this.timeout(60_000);

  it('pass promtool check rules: 18 recording rules, 9 alerts', async () => {
    const { code, output } = await promtool('check', 'rules', RECORDING_FILE, ALERTS_FILE);
    expect(code, output).to.equal(0);
    expect(output).to.include('SUCCESS: 18 rules found');
    expect(output).to.include('SUCCESS: 9 rules found');
  });

  it('pass their unit tests (promtool test rules)', async () => {
    const { code, output } = await promtool('test', 'rules', RECORDING_TESTS, ALERT_TESTS);
    expect(code, output).to.equal(0);
    expect(output).not.to.include('FAILED');
  });

  it('a broken expectation fails promtool test rules (the unit tests can fail)', async () => {
    // The same alert tests against a copy of the rules whose auth-failure threshold is lower:
    // the case that must not fire then fires.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-rules-'));
    try {
      const rulesDir = path.join(dir, 'deploy', 'rules');
      const testsDir = path.join(dir, 'test', 'rules');
      await mkdir(rulesDir, { recursive: true });
      await mkdir(testsDir, { recursive: true });
      const alerts = readFileSync(ALERTS_FILE, 'utf8');
      const lowered = alerts.replace('code=~"401|429"}[5m])) > 20', 'code=~"401|429"}[5m])) > 5');
      expect(lowered).not.to.equal(alerts);
      await writeFile(path.join(rulesDir, path.basename(ALERTS_FILE)), lowered);
      await writeFile(
        path.join(rulesDir, path.basename(RECORDING_FILE)),
        readFileSync(RECORDING_FILE, 'utf8'),
      );
      // Only the groups about that alert, to keep the run short.
      const tests = readYaml<UnitTests>(ALERT_TESTS);
      tests.tests = tests.tests.filter((t) => /authentications/.test(t.name));
      expect(tests.tests).to.have.length(2);
      await writeFile(path.join(testsDir, 'alerts.test.yml'), stringify(tests));
      const { code, output } = await promtool(
        'test',
        'rules',
        path.join(testsDir, 'alerts.test.yml'),
      );
      expect(code, output).to.equal(1);
      expect(output).to.include('a few failed authentications among good scrapes');
      expect(output).to.include('ScanopyMetricsAuthFailures');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every alert has a unit test where it fires and one where it must not', () => {
    const alerts = rules(ALERTS_FILE).flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
    expect(alerts).to.have.length(9);
    const tests = readYaml<UnitTests>(ALERT_TESTS);
    expect(tests.rule_files).to.deep.equal([
      '../../deploy/rules/scanopy-metrics.rules.yml',
      '../../deploy/rules/scanopy-metrics.alerts.yml',
    ]);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} fires in a test`,
      ).to.equal(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} must not fire in a test`,
      ).to.equal(true);
    }
    // No test names an alert that does not exist.
    expect(alerts).to.include.members([...new Set(cases.map((c) => c.alertname))]);
  });

  it('every recording rule is asserted by a unit test', () => {
    const records = rules(RECORDING_FILE).flatMap((r) =>
      r.record === undefined ? [] : [r.record],
    );
    expect(records).to.have.length(18);
    const tests = readYaml<UnitTests>(RECORDING_TESTS);
    expect(tests.rule_files).to.deep.equal(['../../deploy/rules/scanopy-metrics.rules.yml']);
    const exprs = tests.tests.flatMap((t) => (t.promql_expr_test ?? []).map((e) => e.expr));
    for (const record of records) {
      const pattern = new RegExp(
        `(^|[^\\w:])${record.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w:])`,
      );
      expect(
        exprs.some((expr) => pattern.test(expr)),
        `${record} is queried in test/rules/recording.test.yml`,
      ).to.equal(true);
    }
  });

  it('the alerts read only recorded series that the rules file defines', () => {
    const records = new Set(rules(RECORDING_FILE).map((r) => r.record));
    for (const rule of rules(ALERTS_FILE)) {
      for (const [name] of rule.expr.matchAll(/\b[a-z_]+:[a-z_]+:[a-z_0-9]+\b/g)) {
        expect(records.has(name), `${rule.alert} reads ${name}`).to.equal(true);
      }
    }
  });
});
