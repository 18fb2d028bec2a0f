// The hot path's index from label tuples to series, and past the caches' bound the recordings
// stay exact (they are resolved through the series maps each time).
import { Instruments } from '../src/collection/instruments';
import { TupleIndex } from '../src/series/tuple-index';
import { expect } from './helpers/chai';

function found(index: TupleIndex, ...tuple: string[]): unknown {
  const [a, b, c, d] = tuple;
  return index.find(a, b, c, d) ? index.value() : undefined;
}

describe('TupleIndex', () => {
  it('finds what was added for a tuple, and nothing for a tuple that differs in any place', () => {
    const index = new TupleIndex();
    index.add(1, undefined, '/a', 'GET', '200');
    index.add(2, undefined, '/a', 'GET', '404');
    index.add(3, undefined, '/a', 'POST', '200');
    index.add(4, undefined, '/b', 'GET', '200', 'user');
    expect(found(index, '/a', 'GET', '200')).to.equal(1);
    expect(found(index, '/a', 'GET', '404')).to.equal(2);
    expect(found(index, '/a', 'POST', '200')).to.equal(3);
    expect(found(index, '/b', 'GET', '200', 'user')).to.equal(4);
    expect(found(index, '/b', 'GET', '200')).to.equal(undefined);
    expect(found(index, '/c', 'GET', '200')).to.equal(undefined);
    expect(found(index, '/a', 'PUT', '200')).to.equal(undefined);
    expect(found(index, '/a', 'GET', '500')).to.equal(undefined);
    expect(index.size).to.equal(4);
  });

  it('holds several values per tuple, read until the next find', () => {
    const index = new TupleIndex(2);
    index.add('count a', 'duration a', '/a', 'GET');
    index.add('count b', 'duration b', '/a', 'POST');
    expect(index.find('/a', 'POST')).to.equal(true);
    expect([index.value(0), index.value(1)]).to.deep.equal(['count b', 'duration b']);
    expect(index.find('/a', 'GET')).to.equal(true);
    expect([index.value(0), index.value(1)]).to.deep.equal(['count a', 'duration a']);
  });

  it('finds every tuple of a first value shared by more tuples than a bucket scans (a Map then)', () => {
    const index = new TupleIndex(2);
    const statuses = Array.from({ length: 300 }, (_, i) => String(100 + i));
    for (const status of statuses) index.add(`n${status}`, status, '/a', 'GET', status, 'user');
    for (const status of statuses) {
      expect(index.find('/a', 'GET', status, 'user'), status).to.equal(true);
      expect([index.value(0), index.value(1)]).to.deep.equal([`n${status}`, status]);
    }
    expect(index.find('/a', 'GET', '200', 'daemon')).to.equal(false);
    expect(index.find('/a', 'POST', '200', 'user')).to.equal(false);
    expect(index.size).to.equal(300);
  });

  it('finds the same tuple twice in a row, and after it a tuple that differs in one place only', () => {
    const index = new TupleIndex(2);
    index.add('a1', 'a2', '/a', 'GET', '200', 'user');
    index.add('b1', 'b2', '/a', 'GET', '200', 'daemon');
    const read = (...tuple: string[]): unknown[] | undefined => {
      const [a, b, c, d] = tuple;
      return index.find(a, b, c, d) ? [index.value(0), index.value(1)] : undefined;
    };
    expect(read('/a', 'GET', '200', 'user')).to.deep.equal(['a1', 'a2']);
    expect(read('/a', 'GET', '200', 'user')).to.deep.equal(['a1', 'a2']);
    expect(read('/a', 'GET', '200', 'daemon')).to.deep.equal(['b1', 'b2']);
    expect(read('/a', 'GET', '201', 'daemon')).to.equal(undefined);
    // A miss does not replace the last tuple found, nor what value() reads after a hit.
    expect(read('/a', 'GET', '200', 'daemon')).to.deep.equal(['b1', 'b2']);
    expect(read('/b', 'GET', '200', 'user')).to.equal(undefined);
    expect(read('/a', 'GET', '200', 'user')).to.deep.equal(['a1', 'a2']);
  });

  it('tells apart tuples whose values concatenate alike', () => {
    const index = new TupleIndex();
    index.add(1, undefined, 'x', 'ab', 'c');
    index.add(2, undefined, 'x', 'a', 'bc');
    expect(found(index, 'x', 'ab', 'c')).to.equal(1);
    expect(found(index, 'x', 'a', 'bc')).to.equal(2);
  });
});

describe('Instruments past the label cache bound', () => {
  it('counts every request and event exactly, cached or not', () => {
    const instruments = new Instruments({ cardinalityLimit: 70_000 });
    // 60,000 label sets: more than the 50,000 the cache holds.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 60_000; i++) {
        instruments.recordRequest('GET', `/r/${i}`, '200', 'user', 0.01);
        instruments.recordEvent(`E${i}`, 'created');
      }
    }
    const now: [number, number] = [0, 0];
    const counts = instruments.httpRequests.collect(now, now).dataPoints;
    const durations = instruments.httpDuration.collect(now, now).dataPoints;
    const events = instruments.events.collect(now, now).dataPoints;
    expect(counts.length).to.equal(60_000);
    expect(counts.every((p) => p.value === 2)).to.equal(true);
    expect(durations.length).to.equal(60_000);
    expect(durations.every((p) => p.value.count === 2)).to.equal(true);
    expect(events.length).to.equal(60_000);
    expect(events.every((p) => p.value === 2)).to.equal(true);
  });
});
