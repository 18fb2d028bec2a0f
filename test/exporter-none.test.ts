// OTEL_METRICS_EXPORTER=none, which a host's own OTel SDK reads too, stops the package's pushes
// but not its route; a list without `prometheus` (otlp alone) does turn the route off.
import { expect } from './helpers/chai';
import { loadSettings } from '../src/config/load';

describe('OTEL_METRICS_EXPORTER=none', () => {
  it('none alone: no push, the route stays; otlp alone: the route is off', () => {
    const none = loadSettings({ OTEL_METRICS_EXPORTER: 'none' }, '/nonexistent-dir');
    expect(none.problems).to.deep.equal([]);
    expect(none.settings.exports).to.deep.equal({ prometheus: true, push: [] });
    const otlp = loadSettings({ OTEL_METRICS_EXPORTER: 'otlp' }, '/nonexistent-dir');
    expect(otlp.problems).to.deep.equal([]);
    expect(otlp.settings.exports.prometheus).to.equal(false);
    expect(otlp.settings.exports.push.map((p) => p.exporter)).to.deep.equal(['otlp']);
  });
});
