// The test helpers themselves: a parser that accepted anything would make every other test pass.
import { expect } from './helpers/chai';

import { metricTypes, parseExposition, sample, series } from './helpers/exposition';
import { checkMetrics } from './helpers/promtool';

const TEXT = [
  '# HELP demo_total A demo counter',
  '# TYPE demo_total counter',
  'demo_total{a="1",b="x"} 3',
  'demo_total{a="1"} 4',
  'demo_total{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 5 1700000000000',
  'plain 2.5',
  'inf{le="+Inf"} +Inf',
  '',
].join('\n');

describe('test helper: exposition parser', () => {
  it('reads names, labels (unescaped) and values, skipping comments', () => {
    expect(parseExposition(TEXT)).to.deep.equal([
      { name: 'demo_total', labels: { a: '1', b: 'x' }, value: 3 },
      { name: 'demo_total', labels: { a: '1' }, value: 4 },
      { name: 'demo_total', labels: { a: 'q"uote', b: 'back\\slash', c: 'new\nline' }, value: 5 },
      { name: 'plain', labels: {}, value: 2.5 },
      { name: 'inf', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });

  it('sample() matches the label set exactly', () => {
    expect(sample(TEXT, 'demo_total', { a: '1' })).to.equal(4);
    expect(sample(TEXT, 'demo_total', { b: 'x', a: '1' })).to.equal(3);
    expect(sample(TEXT, 'plain')).to.equal(2.5);
  });

  it('sample() throws when no sample or several match', () => {
    expect(() => sample(TEXT, 'demo_total', { a: '2' })).to.throw(/found 0/);
    expect(() => sample(TEXT, 'missing')).to.throw(/found 0/);
    expect(() => sample('x{a="1"} 1\nx{a="1"} 2\n', 'x', { a: '1' })).to.throw(/found 2/);
  });

  it('series() lists the samples of one name only', () => {
    expect(series(TEXT, 'demo_total').map((s) => s.value)).to.deep.equal([3, 4, 5]);
    expect(series(TEXT, 'demo')).to.deep.equal([]);
  });

  it('rejects malformed lines', () => {
    expect(() => parseExposition('x{a="1} 1')).to.throw();
    expect(() => parseExposition('x{a="\\t"} 1')).to.throw(/bad escape/);
    expect(() => parseExposition('x{a=1} 1')).to.throw(/bad label/);
    expect(() => parseExposition('x one')).to.throw(/bad sample value/);
  });

  it('metricTypes() reads the TYPE lines', () => {
    expect(metricTypes(TEXT)).to.deep.equal({ demo_total: 'counter' });
  });
});

describe('test helper: promtool', () => {
  it('passes a lint-clean exposition', async () => {
    const result = await checkMetrics(TEXT.split('\n').slice(0, 4).join('\n') + '\n');
    expect(result).to.deep.equal({ code: 0, output: '' });
  });

  it('fails an exposition without HELP text', async () => {
    const result = await checkMetrics('# TYPE foo_total counter\nfoo_total 1\n');
    expect(result.code).to.not.equal(0);
    expect(result.output).to.contain('foo_total no help text');
  });
});
