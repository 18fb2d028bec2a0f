// Names Prometheus always accepts: every label name (resource attributes, SDK instrument
// attributes, scope labels) and metric name is written in the legacy charset, a leading digit
// prefixed with `_`, names that collide merged into one label (values joined with `;`, in the
// order of the original keys, as OTel's Prometheus compatibility specification says); or, for a
// scraper that negotiated UTF-8 names, written as they are, quoted. Where this differs from OTel's
// PrometheusSerializer (serializer.test.ts), PrometheusSerializer writes what Prometheus rejects.
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';

import { MetricsPipeline } from '../src/collection/pipeline';
import { negotiateFormat } from '../src/exposition/negotiate';
import { labelText } from '../src/exposition/label-text';
import { sanitize, unitWord } from '../src/exposition/names';
import { loadSettings } from '../src/index';
import { expect } from './helpers/chai';
import { checkMetrics } from './helpers/promtool';
import { pythonParse } from './helpers/python-parser';

async function text(pipeline: MetricsPipeline, accept?: string): Promise<string> {
  const exposition = await pipeline.scrape(negotiateFormat(accept));
  try {
    return exposition.bytes.toString('utf8');
  } finally {
    exposition.release();
  }
}

const TARGET_INFO = /^target_info\{(.*)\} 1$/m;

describe('names in the exposition', function () {
  this.timeout(30_000);

  it('sanitizes as OTel does, and prefixes a leading digit with `_`', () => {
    expect(sanitize('service.name')).to.equal('service_name');
    expect(sanitize('a..b--c')).to.equal('a_b_c');
    expect(sanitize('0digit')).to.equal('_0digit');
    expect(sanitize('9lives')).to.equal('_9lives');
    expect(sanitize('__name__')).to.equal('_name_');
    expect(sanitize('é')).to.equal('_');
  });

  it('turns OTel units into the words Prometheus uses', () => {
    expect(unitWord('s')).to.equal('seconds');
    expect(unitWord('By')).to.equal('bytes');
    expect(unitWord('ms')).to.equal('milliseconds');
    expect(unitWord('{request}')).to.equal('');
    expect(unitWord('m/s')).to.equal('meters_per_second');
    expect(unitWord('1')).to.equal('ratio');
    expect(unitWord('')).to.equal('');
  });

  it('merges labels whose names collide, values joined with `;` in the order of the keys', () => {
    expect(
      labelText(
        [
          ['a_b', '2'],
          ['a.b', '1'],
          ['c', '3'],
        ],
        'underscores',
      ),
    ).to.equal('a_b="1;2",c="3"');
    expect(
      labelText(
        [
          ['', 'dropped'],
          ['k', 'v'],
        ],
        'underscores',
      ),
    ).to.equal('k="v"');
    // Nothing collides when the names are kept as they are.
    expect(
      labelText(
        [
          ['a_b', '2'],
          ['a.b', '1'],
        ],
        'allow-utf-8',
      ),
    ).to.equal('a_b="2","a.b"="1"');
  });

  it('OTEL_RESOURCE_ATTRIBUTES=0digit=x: target_info{_0digit="x"}, which promtool and Python accept', async () => {
    const { settings } = loadSettings(
      { OTEL_RESOURCE_ATTRIBUTES: '0digit=x,service.name=svc', SCANOPY_METRICS_TOKEN: 't' },
      '/',
    );
    const pipeline = new MetricsPipeline({ resourceAttributes: settings.resourceAttributes });
    try {
      const exposition = await text(pipeline);
      const labels = TARGET_INFO.exec(exposition)?.[1];
      expect(labels).to.contain('_0digit="x"');
      expect(labels).to.contain('service_name="svc"');
      const { code, output } = await checkMetrics(exposition);
      expect(code, output).to.equal(0);
      await pythonParse(exposition, 'text');
      await pythonParse(
        await text(pipeline, 'application/openmetrics-text;version=1.0.0'),
        'openmetrics',
      );

      // What OTel's own serializer writes for the same data: the label Prometheus rejects.
      const otel = new PrometheusSerializer(undefined, false, undefined, false, true).serialize(
        await pipeline.collect(),
      );
      expect(TARGET_INFO.exec(otel)?.[1]).to.contain('0digit="x"').and.not.contain('_0digit');
      expect((await checkMetrics(otel)).code).to.equal(1);
    } finally {
      await pipeline.shutdown();
    }
  });

  it('merges SDK attributes and scope labels that collide into one label each', async () => {
    const pipeline = new MetricsPipeline({
      withoutScopeInfo: false,
      resourceAttributes: { 'host.name': 'h1', host_name: 'h2' },
    });
    try {
      const counter = pipeline.meterProvider.getMeter('lib', '1.0').createCounter('things');
      counter.add(3, { 'a.b': 'dot', a_b: 'underscore', otel_scope_name: 'mine', '1st': 'one' });
      const exposition = await text(pipeline);
      expect(TARGET_INFO.exec(exposition)?.[1]).to.contain('host_name="h1;h2"');
      const line = exposition.split('\n').find((l) => l.startsWith('things_total{'));
      expect(line).to.equal(
        'things_total{a_b="dot;underscore",otel_scope_name="lib;mine",_1st="one",otel_scope_version="1.0"} 3',
      );
      const { code, output } = await checkMetrics(exposition);
      expect(code, output).to.equal(0);
    } finally {
      await pipeline.shutdown();
    }
  });

  it('quotes UTF-8 names for a scraper that negotiated escaping=allow-utf-8, and only then', async () => {
    const pipeline = new MetricsPipeline({ resourceAttributes: { 'service.name': 'svc' } });
    try {
      pipeline.meterProvider
        .getMeter('m')
        .createCounter('http.server.things')
        .add(2, { 'net.peer': 'x' });
      const om = await text(
        pipeline,
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8',
      );
      expect(om).to.match(/^target_info\{.*"service\.name"="svc".*\} 1$/m);
      expect(om).to.contain('# TYPE "http.server.things" counter\n');
      expect(om).to.contain('{"http.server.things_total","net.peer"="x"} 2\n');
      const text100 = await text(pipeline, 'text/plain;version=1.0.0;escaping=allow-utf-8');
      expect(text100).to.contain('{"http.server.things_total","net.peer"="x"} 2\n');
      const legacy = await text(pipeline);
      expect(legacy).to.contain('http_server_things_total{net_peer="x"} 2\n');
      const dots = await text(pipeline, 'text/plain;version=0.0.4;escaping=dots');
      expect(dots).to.contain('http_dot_server_dot_things_total{net_dot_peer="x"} 2\n');
      const values = await text(pipeline, 'text/plain;version=0.0.4;escaping=values');
      expect(values).to.contain('U__http_2e_server_2e_things_total{U__net_2e_peer="x"} 2\n');
      for (const t of [legacy, dots, values]) expect((await checkMetrics(t)).code).to.equal(0);
    } finally {
      await pipeline.shutdown();
    }
  });

  it('leaves out a metric whose name collides with one of another type, and keeps same-type ones together', async () => {
    const pipeline = new MetricsPipeline();
    try {
      const meter = pipeline.meterProvider.getMeter('m');
      meter.createCounter('jobs.done').add(1, { q: 'a' });
      meter.createCounter('jobs_done').add(2, { q: 'b' });
      meter.createUpDownCounter('http_requests_total').add(5);
      const exposition = await text(pipeline);
      expect(exposition.match(/^# TYPE jobs_done_total counter$/gm)).to.have.length(1);
      expect(exposition).to.contain('jobs_done_total{q="a"} 1\njobs_done_total{q="b"} 2\n');
      // The package's own http_requests_total (a counter) stays; the gauge of that name is left out.
      expect(exposition.match(/^# TYPE http_requests_total .*$/gm)).to.deep.equal([
        '# TYPE http_requests_total counter',
      ]);
      expect(exposition).not.to.match(/^http_requests_total 5$/m);
      expect((await checkMetrics(exposition)).code).to.equal(0);
      await pythonParse(
        await text(pipeline, 'application/openmetrics-text;version=1.0.0'),
        'openmetrics',
      );
    } finally {
      await pipeline.shutdown();
    }
  });
});
