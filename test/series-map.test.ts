// The bounded store of series behind every metric: cardinality limit and attribute keys.
import {
  DEFAULT_CARDINALITY_LIMIT,
  OVERFLOW_ATTRIBUTES,
  SeriesMap,
} from '../src/series/series-map';
import type { Series } from '../src/series/series-map';
import { expect } from './helpers/chai';

interface Tally extends Series {
  n: number;
}

function tallies(options: ConstructorParameters<typeof SeriesMap>[0]): SeriesMap<Tally> {
  return new SeriesMap<Tally>(options, (attributes) => ({ attributes, n: 0 }));
}

function contents(map: SeriesMap<Tally>) {
  return [...map].map((s) => ({ attributes: s.attributes, n: s.n }));
}

describe('SeriesMap', () => {
  it('keeps one series per label set, with the label names as attributes', () => {
    const map = tallies({ labelNames: ['method', 'path'] });
    map.get(['GET', '/a']).n++;
    map.get(['GET', '/a']).n++;
    map.get(['POST', '/a']).n++;
    expect(map.size).to.equal(2);
    expect(contents(map)).to.deep.equal([
      { attributes: { method: 'GET', path: '/a' }, n: 2 },
      { attributes: { method: 'POST', path: '/a' }, n: 1 },
    ]);
  });

  it('does not confuse label sets whose values concatenate alike', () => {
    const map = tallies({ labelNames: ['a', 'b'] });
    map.get(['ab', 'c']).n++;
    map.get(['a', 'bc']).n++;
    expect(map.size).to.equal(2);
  });

  it('with limit 4 holds exactly 3 series and sends every further label set to one overflow series', () => {
    const map = tallies({ labelNames: ['k'], cardinalityLimit: 4 });
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) map.get([k]).n++;
    map.get(['a']).n++; // an existing series still counts on its own
    map.get(['d']).n++; // a label set that overflowed still overflows
    expect(map.size).to.equal(4);
    expect(contents(map)).to.deep.equal([
      { attributes: { k: 'a' }, n: 2 },
      { attributes: { k: 'b' }, n: 1 },
      { attributes: { k: 'c' }, n: 1 },
      { attributes: { 'otel.metric.overflow': true }, n: 4 },
    ]);
    expect(OVERFLOW_ATTRIBUTES).to.deep.equal({ 'otel.metric.overflow': true });
  });

  it('with limit 1 holds only the overflow series', () => {
    const map = tallies({ labelNames: ['k'], cardinalityLimit: 1 });
    map.get(['a']).n++;
    map.get(['b']).n++;
    expect(contents(map)).to.deep.equal([{ attributes: { 'otel.metric.overflow': true }, n: 2 }]);
  });

  it('defaults to 20,000 series, the overflow series included', () => {
    const map = tallies({ labelNames: ['k'] });
    for (let i = 0; i < 20_500; i++) map.get([String(i)]).n++;
    expect(DEFAULT_CARDINALITY_LIMIT).to.equal(20_000);
    expect(map.cardinalityLimit).to.equal(20_000);
    expect(map.size).to.equal(20_000);
    const all = contents(map);
    expect(all[19_998]).to.deep.equal({ attributes: { k: '19998' }, n: 1 });
    expect(all[19_999]).to.deep.equal({ attributes: { 'otel.metric.overflow': true }, n: 501 });
  });

  it('calls onOverflow once per get that returns the overflow series, and says which one it is', () => {
    let overflowed = 0;
    const map = new SeriesMap<Tally>(
      { labelNames: ['k'], cardinalityLimit: 3, onOverflow: () => overflowed++ },
      (attributes) => ({ attributes, n: 0 }),
    );
    const a = map.get(['a']);
    map.get(['b']);
    expect(overflowed).to.equal(0);
    const c = map.get(['c']);
    map.get(['d']);
    map.get(['c']);
    map.get(['a']);
    expect(overflowed).to.equal(3);
    expect(map.isOverflow(c)).to.equal(true);
    expect(map.isOverflow(a)).to.equal(false);
  });

  it('finds the same series whichever label it is indexed by, and with more than four labels', () => {
    for (const indexLabel of [undefined, 'path', 'status']) {
      const map = tallies({ labelNames: ['method', 'path', 'status'], indexLabel });
      map.get(['GET', '/a', '200']).n++;
      map.get(['GET', '/b', '200']).n++;
      map.get(['GET', '/a', '200']).n++;
      map.get(['POST', '/a', '200']).n++;
      expect(contents(map), String(indexLabel)).to.deep.equal([
        { attributes: { method: 'GET', path: '/a', status: '200' }, n: 2 },
        { attributes: { method: 'GET', path: '/b', status: '200' }, n: 1 },
        { attributes: { method: 'POST', path: '/a', status: '200' }, n: 1 },
      ]);
    }
    const wide = tallies({ labelNames: ['a', 'b', 'c', 'd', 'e'] });
    wide.get(['1', '2', '3', '4', '5']).n++;
    wide.get(['1', '2', '3', '4', '6']).n++;
    wide.get(['1', '2', '3', '4', '5']).n++;
    expect(contents(wide)).to.deep.equal([
      { attributes: { a: '1', b: '2', c: '3', d: '4', e: '5' }, n: 2 },
      { attributes: { a: '1', b: '2', c: '3', d: '4', e: '6' }, n: 1 },
    ]);
  });

  it('drops the labels not in attributeKeys and merges their series', () => {
    const map = tallies({
      labelNames: ['method', 'path', 'status'],
      attributeKeys: ['method', 'status'],
    });
    map.get(['GET', '/a', '200']).n++;
    map.get(['GET', '/b', '200']).n++;
    map.get(['GET', '/c', '500']).n++;
    expect(contents(map)).to.deep.equal([
      { attributes: { method: 'GET', status: '200' }, n: 2 },
      { attributes: { method: 'GET', status: '500' }, n: 1 },
    ]);
  });

  it('with no attribute keys merges everything into one series without labels', () => {
    const map = tallies({ labelNames: ['a', 'b'], attributeKeys: [] });
    map.get(['1', '2']).n++;
    map.get(['3', '4']).n++;
    expect(contents(map)).to.deep.equal([{ attributes: {}, n: 2 }]);
  });

  it('counts merged series, not label sets, against the limit', () => {
    const map = tallies({ labelNames: ['a', 'b'], attributeKeys: ['a'], cardinalityLimit: 3 });
    for (const b of ['1', '2', '3', '4', '5']) map.get(['x', b]).n++;
    map.get(['y', '1']).n++;
    map.get(['z', '1']).n++;
    expect(contents(map)).to.deep.equal([
      { attributes: { a: 'x' }, n: 5 },
      { attributes: { a: 'y' }, n: 1 },
      { attributes: { 'otel.metric.overflow': true }, n: 1 },
    ]);
  });
});
