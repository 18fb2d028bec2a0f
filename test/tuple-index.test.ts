// The hot path's cache from label tuples to series: bounded, and past its bound the
// recordings stay exact (they are resolved through the series maps each time).
import { Instruments } from '../src/collection/instruments';
import { LabelCache } from '../src/series/label-cache';
import { expect } from './helpers/chai';

describe('LabelCache', () => {
  it('finds what was set for a tuple, and nothing for a tuple that differs in any place', () => {
    const cache = new LabelCache<number>(10);
    cache.set(['GET', '/a', '200'], 1);
    cache.set(['GET', '/a', '404'], 2);
    cache.set(['POST', '/a', '200'], 3);
    expect(cache.get(['GET', '/a', '200'])).to.equal(1);
    expect(cache.get(['GET', '/a', '404'])).to.equal(2);
    expect(cache.get(['POST', '/a', '200'])).to.equal(3);
    expect(cache.get(['GET', '/b', '200'])).to.equal(undefined);
    expect(cache.get(['PUT', '/a', '200'])).to.equal(undefined);
    expect(cache.get(['GET', '/a', '500'])).to.equal(undefined);
  });

  it('holds at most maxEntries tuples and ignores the rest', () => {
    const cache = new LabelCache<number>(3);
    for (let i = 0; i < 5; i++) cache.set(['x', String(i)], i);
    expect([0, 1, 2, 3, 4].map((i) => cache.get(['x', String(i)]))).to.deep.equal([
      0,
      1,
      2,
      undefined,
      undefined,
    ]);
  });
});

describe('Instruments past the label cache bound', () => {
  it('counts every request and event exactly, cached or not', () => {
    const instruments = new Instruments({ cardinalityLimit: 30_000 });
    // 12,000 label sets: more than the 10,000 the cache holds.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 12_000; i++) {
        instruments.recordRequest('GET', `/r/${i}`, '200', 'user', 0.01);
        instruments.recordEvent(`E${i}`, 'created');
      }
    }
    const now: [number, number] = [0, 0];
    const counts = instruments.httpRequests.collect(now, now).dataPoints;
    const durations = instruments.httpDuration.collect(now, now).dataPoints;
    const events = instruments.events.collect(now, now).dataPoints;
    expect(counts.length).to.equal(12_000);
    expect(counts.every((p) => p.value === 2)).to.equal(true);
    expect(durations.length).to.equal(12_000);
    expect(durations.every((p) => p.value.count === 2)).to.equal(true);
    expect(events.length).to.equal(12_000);
    expect(events.every((p) => p.value === 2)).to.equal(true);
  });
});
