// OpenMetrics 1.0.0 as the package writes it: read by Python's strict OpenMetrics parser, with
// the same values as the text format for the same data (generated: label values with quotes,
// backslashes, new lines and non-ASCII, SDK instruments, scope labels on and off), counters named
// without `_total` in their metadata, the unit as the name's suffix, `_created` from the data's
// start time, canonical `le` labels and `# EOF` last.
import fc from 'fast-check';

import { MetricsPipeline } from '../src/collection/pipeline';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, type ExpositionFormat } from '../src/exposition/format';
import { expect } from './helpers/chai';
import { checkMetrics } from './helpers/promtool';
import { parseExposition } from './helpers/exposition';
import { pythonParse, type PythonFamily } from './helpers/python-parser';

async function scrapeAs(pipeline: MetricsPipeline, format: ExpositionFormat): Promise<string> {
  const exposition = await pipeline.scrape(format);
  try {
    return exposition.bytes.toString('utf8');
  } finally {
    exposition.release();
  }
}

const labelValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '"',
    '\\',
    '\n',
    '\\n',
    '"quoted"',
    'a\\"b',
    'é',
    '🔑',
    '',
    ' ',
    '{}',
    ',',
    '=',
    ' # ',
  ),
);

type Samples = { name: string; labels: Record<string, string>; value: number }[];

/** sample name + labels (sorted) → value, `le` read as a number (OpenMetrics writes `1.0`, text `1`). */
function values(samples: Samples): Map<string, number> {
  const map = new Map<string, number>();
  for (const s of samples) {
    if (s.name.endsWith('_created')) continue;
    const labels = Object.entries(s.labels)
      .map(([k, v]): [string, string] => [
        k,
        k === 'le' ? String(Number(v === '+Inf' ? Infinity : v)) : v,
      ])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = `${s.name}${JSON.stringify(labels)}`;
    expect(map.has(key), `${key} twice`).to.equal(false);
    map.set(key, s.value);
  }
  return map;
}

const samplesOf = (families: PythonFamily[]): Samples => families.flatMap((f) => f.samples);

describe('OpenMetrics exposition', function () {
  this.timeout(120_000);

  it('is what the OpenMetrics text for a small service looks like', async () => {
    const pipeline = new MetricsPipeline({
      resourceAttributes: { 'service.name': 'scanopy', '0digit': 'x' },
    });
    try {
      pipeline.instruments.recordRequest('GET', '/api/v1/hosts/:id', '200', 'user', 0.003);
      pipeline.instruments.recordRequest('GET', '/api/v1/hosts/:id', '200', 'user', 2);
      pipeline.instruments.recordEvent('Host', 'created');
      const text = await scrapeAs(pipeline, OPENMETRICS_TEXT);
      const lines = text.split('\n');
      expect(lines.slice(0, 3)).to.deep.equal([
        '# HELP target Target metadata',
        '# TYPE target info',
        lines[2],
      ]);
      expect(lines[2]).to.match(/^target_info\{service_name="scanopy",.*_0digit="x".*\} 1$/);
      expect(text).to.contain(
        '# HELP http_requests Total number of HTTP requests\n# TYPE http_requests counter\nhttp_requests_total{method="GET",path="/api/v1/hosts/:id",status="200",entity_type="user"} 2\nhttp_requests_created{method="GET",path="/api/v1/hosts/:id",status="200",entity_type="user"} ',
      );
      expect(text).to.contain(
        '# HELP http_request_duration_seconds HTTP request duration in seconds\n# TYPE http_request_duration_seconds histogram\n# UNIT http_request_duration_seconds seconds\n',
      );
      const labels = 'method="GET",path="/api/v1/hosts/:id"';
      const buckets = [
        ['0.005', 1],
        ['0.01', 1],
        ['0.025', 1],
        ['0.05', 1],
        ['0.1', 1],
        ['0.25', 1],
        ['0.5', 1],
        ['1.0', 1],
        ['2.5', 2],
        ['5.0', 2],
        ['10.0', 2],
        ['+Inf', 2],
      ].map(([le, n]) => `http_request_duration_seconds_bucket{${labels},le="${le}"} ${n}`);
      expect(text).to.contain(
        `${buckets.join('\n')}\nhttp_request_duration_seconds_count{${labels}} 2\nhttp_request_duration_seconds_sum{${labels}} 2.003\nhttp_request_duration_seconds_created{${labels}} `,
      );
      expect(text).to.contain('# TYPE scanopy_events counter\n');
      expect(text).to.match(
        /\nscanopy_events_created\{entity="Host",operation="created"\} \d+\.\d{3}\n/,
      );
      expect(text.endsWith('\n# EOF\n')).to.equal(true);
      expect(text.indexOf('# EOF')).to.equal(text.length - '# EOF\n'.length);

      const families = await pythonParse(text, 'openmetrics');
      const byName = new Map(families.map((f) => [f.name, f]));
      expect(byName.get('target')?.type).to.equal('info');
      expect(byName.get('http_requests')?.type).to.equal('counter');
      const duration = byName.get('http_request_duration_seconds');
      expect(duration?.type).to.equal('histogram');
      expect(duration?.unit).to.equal('seconds');
      const created = byName
        .get('http_requests')
        ?.samples.find((s) => s.name === 'http_requests_created');
      // The start of the package's cumulative values: a few seconds ago at most.
      expect(created?.value).to.be.within(Date.now() / 1000 - 600, Date.now() / 1000 + 1);
    } finally {
      await pipeline.shutdown();
    }
  });

  it('writes the same values as the text format over generated data; Python parses both', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            method: labelValue,
            path: labelValue,
            status: labelValue,
            entity: labelValue,
            seconds: fc.double({ min: 0, max: 100, noNaN: true }),
          }),
          { maxLength: 12 },
        ),
        fc.array(fc.tuple(labelValue, labelValue), { maxLength: 6 }),
        fc.array(
          fc.record({
            key: fc.constantFrom('k', 'http.route', 'a b', 'é'),
            value: labelValue,
            n: fc.nat(1000),
          }),
          { maxLength: 6 },
        ),
        fc.boolean(),
        async (requests, events, sdkRecords, withoutScopeInfo) => {
          runs++;
          const pipeline = new MetricsPipeline({ withoutScopeInfo });
          try {
            for (const r of requests) {
              pipeline.instruments.recordRequest(r.method, r.path, r.status, r.entity, r.seconds);
            }
            for (const [entity, operation] of events)
              pipeline.instruments.recordEvent(entity, operation);
            const meter = pipeline.meterProvider.getMeter('other.library', '1.2.3');
            const histogram = meter.createHistogram('other.duration', { unit: 'ms' });
            const upDown = meter.createUpDownCounter('other_inflight');
            const counter = meter.createCounter('other.things');
            for (const { key, value, n } of sdkRecords) {
              histogram.record(n, { [key]: value });
              upDown.add(n - 500, { [key]: value });
              counter.add(n, { [key]: value });
            }
            const text = await scrapeAs(pipeline, PROMETHEUS_TEXT);
            const om = await scrapeAs(pipeline, OPENMETRICS_TEXT);
            expect(values(parseExposition(om))).to.deep.equal(values(parseExposition(text)));
            // An independent reading of both, on some of the runs (a Python process each).
            if (runs % 10 === 1) {
              const fromText = values(samplesOf(await pythonParse(text, 'text')));
              expect(values(samplesOf(await pythonParse(om, 'openmetrics')))).to.deep.equal(
                fromText,
              );
            }
          } finally {
            await pipeline.shutdown();
          }
        },
      ),
      { numRuns: 50 },
    );
    expect(runs).to.equal(50);
  });

  it('passes promtool check metrics in every text variant (promtool 2.42 reads no OpenMetrics)', async () => {
    const pipeline = new MetricsPipeline({
      resourceAttributes: { '0digit': 'x', 'a.b': '1', a_b: '2' },
    });
    try {
      pipeline.instruments.recordRequest('GET', '/x', '200', 'user', 0.1);
      pipeline.meterProvider
        .getMeter('m')
        .createCounter('http.server.things')
        .add(1, { 'net.peer': 'x' });
      for (const escaping of ['underscores', 'dots', 'values'] as const) {
        const text = await scrapeAs(pipeline, { ...PROMETHEUS_TEXT, escaping });
        const { code, output } = await checkMetrics(text);
        expect(code, `${escaping}: ${output}`).to.equal(0);
      }
    } finally {
      await pipeline.shutdown();
    }
  });
});
