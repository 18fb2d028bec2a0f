// The Prometheus exporter keys of otel-config.yaml under every name the OpenTelemetry
// configuration schema gave them: file_format 1.1 names them `scope_info_enabled` and
// `target_info_enabled/development` (true means the labels/metric are written), 1.0 named them
// `without_scope_info` and `without_target_info/development` (true means they are left out), and
// the 1.0 release candidates `without_target_info`. A file giving two names of one key is refused.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { loadSettings } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { parseExposition } from './helpers/exposition';
import { InProcess } from './helpers/in-process';
import { TOKEN, scrapeChild } from './helpers/preloaded-service';

function exporterFile(keys: Record<string, boolean>, format = '1.1'): string {
  const lines = Object.entries(keys).map(([key, value]) => `            ${key}: ${value}`);
  return `file_format: '${format}'
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development:
${lines.join('\n')}
`;
}

const SCOPE: { key: string; value: boolean; without: boolean }[] = [
  { key: 'scope_info_enabled', value: true, without: false },
  { key: 'scope_info_enabled', value: false, without: true },
  { key: 'without_scope_info', value: true, without: true },
  { key: 'without_scope_info', value: false, without: false },
];

const TARGET: { key: string; value: boolean; without: boolean }[] = [
  { key: 'target_info_enabled/development', value: true, without: false },
  { key: 'target_info_enabled/development', value: false, without: true },
  { key: 'without_target_info/development', value: true, without: true },
  { key: 'without_target_info/development', value: false, without: false },
  { key: 'without_target_info', value: true, without: true },
  { key: 'without_target_info', value: false, without: false },
];

describe('otel-config.yaml: current and former names of the Prometheus exporter keys', () => {
  const run = new InProcess();
  afterEach(() => run.stopAll());

  function write(text: string): { dir: string; file: string } {
    const dir = run.tempDir();
    const file = path.join(dir, 'otel-config.yaml');
    writeFileSync(file, text);
    return { dir, file };
  }

  for (const { key, value, without } of SCOPE) {
    it(`reads ${key}: ${value} as scope labels ${without ? 'off' : 'on'}`, () => {
      const { dir } = write(exporterFile({ [key]: value }));
      const { settings, problems } = loadSettings({}, dir);
      expect(problems).to.deep.equal([]);
      expect(settings.withoutScopeInfo).to.equal(without);
    });
  }

  for (const { key, value, without } of TARGET) {
    it(`reads ${key}: ${value} as target_info ${without ? 'off' : 'on'}`, () => {
      const { dir } = write(exporterFile({ [key]: value }));
      const { settings, problems } = loadSettings({}, dir);
      expect(problems).to.deep.equal([]);
      expect(settings.withoutTargetInfo).to.equal(without);
    });
  }

  it('accepts file_format 1.0 and 1.1', () => {
    for (const format of ['1.0', '1.1']) {
      const { dir } = write(exporterFile({ scope_info_enabled: true }, format));
      expect(loadSettings({}, dir).problems).to.deep.equal([]);
    }
  });

  const BOTH: [string, string, string][] = [
    ['scope_info_enabled', 'without_scope_info', 'scope_info_enabled'],
    [
      'target_info_enabled/development',
      'without_target_info/development',
      'target_info_enabled/development',
    ],
    ['target_info_enabled/development', 'without_target_info', 'target_info_enabled/development'],
    ['without_target_info/development', 'without_target_info', 'target_info_enabled/development'],
  ];
  for (const [first, second, current] of BOTH) {
    it(`refuses a file setting both ${first} and ${second}, in one line naming both`, () => {
      // Even when both say the same thing: which one wins would otherwise be a guess.
      const agreeing = first.startsWith('without_') === second.startsWith('without_');
      const { dir, file } = write(exporterFile({ [first]: true, [second]: agreeing }));
      const { problems } = loadSettings({}, dir);
      expect(problems).to.deep.equal([
        `${file}: meter_provider.readers[0].pull.exporter.prometheus/development: ${first} and ${second} are two names of one key; keep only ${current}`,
      ]);
    });
  }

  it('reports both names on stderr in one line and disables the route', () => {
    const { dir, file } = write(
      exporterFile({ without_scope_info: true, scope_info_enabled: false }),
    );
    const { preload, stderr } = run.start({ SCANOPY_METRICS_TOKEN: TOKEN }, dir);
    expect(stderr).to.deep.equal([
      `scanopy-metrics: ${file}: meter_provider.readers[0].pull.exporter.prometheus/development: scope_info_enabled and without_scope_info are two names of one key; keep only scope_info_enabled; the metrics route is disabled (404)`,
    ]);
    expect(preload.problems).to.have.length(1);
  });

  it('writes the scope labels with scope_info_enabled: true, none with false', async () => {
    for (const enabled of [true, false]) {
      const { dir } = write(exporterFile({ scope_info_enabled: enabled }));
      const { preload, stderr } = run.start({ SCANOPY_METRICS_TOKEN: TOKEN }, dir);
      expect(stderr).to.deep.equal([]);
      const url = await run.serve(preload);
      // The first scrape is counted in the second.
      await scrapeChild(url);
      const samples = parseExposition(await scrapeChild(url));
      const targetInfo = samples.filter((s) => s.name === 'target_info');
      expect(targetInfo).to.have.length(1);
      // target_info is left alone; every other sample has the scope labels or none has.
      const scoped = samples.filter(
        (s) => s.name !== 'target_info' && 'otel_scope_name' in s.labels,
      );
      const others = samples.filter((s) => s.name !== 'target_info');
      expect(others.length).to.be.greaterThan(0);
      expect(scoped.length).to.equal(enabled ? others.length : 0);
      await run.stopAll();
    }
  });
});
