// Bucket placement of the duration histogram: Prometheus `le` semantics, in seconds.
import { hrTime } from '@opentelemetry/core';

import { DEFAULT_BUCKETS, Histogram } from '../src/series/histogram';
import { expect } from './helpers/chai';

function histogram(boundaries?: readonly number[]): Histogram {
  return new Histogram({
    name: 'test_duration_seconds',
    description: 'test',
    unit: 's',
    labelNames: ['path'],
    boundaries,
  });
}

function onlyPoint(h: Histogram) {
  const now = hrTime();
  const { dataPoints } = h.collect(now, now);
  expect(dataPoints).to.have.length(1);
  return dataPoints[0].value;
}

describe('Histogram', () => {
  it("defaults to Prometheus's buckets in seconds", () => {
    expect(DEFAULT_BUCKETS).to.deep.equal([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
    expect(histogram().boundaries).to.deep.equal(DEFAULT_BUCKETS);
  });

  it('puts a value equal to a boundary in that bucket (le), just above it in the next', () => {
    const h = histogram([1, 2, 5]);
    for (const value of [0, 1, 1.0000001, 2, 5, 5.5, 1e9]) h.record(['/a'], value);
    const point = onlyPoint(h);
    expect(point.buckets).to.deep.equal({ boundaries: [1, 2, 5], counts: [2, 2, 1, 2] });
  });

  it('puts each default boundary in its own bucket and nothing in +Inf', () => {
    const h = histogram();
    for (const value of DEFAULT_BUCKETS) h.record(['/a'], value);
    expect(onlyPoint(h).buckets.counts).to.deep.equal([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('puts values above the last boundary in +Inf', () => {
    const h = histogram();
    h.record(['/a'], 10.001);
    h.record(['/a'], 3600);
    expect(onlyPoint(h).buckets.counts).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  });

  it('keeps sum, count, min and max', () => {
    const h = histogram([1]);
    for (const value of [0.5, 0.25, 3, 0.25]) h.record(['/a'], value);
    const point = onlyPoint(h);
    expect(point.sum).to.equal(4);
    expect(point.count).to.equal(4);
    expect(point.min).to.equal(0.25);
    expect(point.max).to.equal(3);
  });

  it('keeps one set of buckets per label set', () => {
    const h = histogram([1]);
    h.record(['/a'], 0.5);
    h.record(['/b'], 2);
    h.record(['/b'], 2);
    const now = hrTime();
    const points = h.collect(now, now).dataPoints.map((p) => ({
      attributes: p.attributes,
      counts: p.value.buckets.counts,
      count: p.value.count,
    }));
    expect(points).to.deep.equal([
      { attributes: { path: '/a' }, counts: [1, 0], count: 1 },
      { attributes: { path: '/b' }, counts: [0, 2], count: 2 },
    ]);
  });

  it('hands out copies, so a collection does not change with later records', () => {
    const h = histogram([1]);
    h.record(['/a'], 0.5);
    const now = hrTime();
    const first = h.collect(now, now).dataPoints[0].value;
    h.record(['/a'], 0.5);
    expect(first.buckets.counts).to.deep.equal([1, 0]);
    expect(first.count).to.equal(1);
  });
});
