// The cluster's snapshots and totals in parts: a metric of more series than a part holds is split
// over several parts and put back together exactly, sliced or not.
import { expect } from './helpers/chai';
import { Instruments } from '../src/collection/instruments';
import { Slicer } from '../src/cluster/slices';
import {
  attributesOf,
  keptPart,
  SnapshotReader,
  takeSnapshot,
  type KeptSnapshot,
  type Snapshot,
} from '../src/cluster/snapshot';
import { Totals } from '../src/cluster/totals';
import { TotalView } from '../src/cluster/view';
import type { CounterSeries } from '../src/series/counter';
import type { HistogramSeries } from '../src/series/histogram';

const LABEL_SETS = 2500;

function worker(times: number): Instruments {
  const instruments = new Instruments({ cardinalityLimit: LABEL_SETS + 10 });
  for (let t = 0; t < times; t++) {
    for (let i = 0; i < LABEL_SETS; i++) {
      instruments.recordRequest('GET', `/r${i}/:id`, '200', 'user', 0.001 * (i % 9));
    }
  }
  return instruments;
}

function parts(reader: SnapshotReader, max: number): Snapshot[] {
  const out: Snapshot[] = [];
  do out.push(JSON.parse(JSON.stringify(reader.next(max))) as Snapshot);
  while (!reader.done);
  return out;
}

describe('cluster snapshots in parts', () => {
  it('a worker reads its series a part at a time, none left out or repeated', () => {
    const w = worker(1);
    const list = parts(new SnapshotReader(w.all), 1000);
    const whole = takeSnapshot(w.all);
    expect(list.length).to.be.greaterThan(2);
    for (const part of list) {
      const series = part.metrics.reduce((n, m) => n + m.keys.length, 0);
      expect(series).to.be.at.most(1000);
    }
    const requests = list.flatMap((p) => p.metrics.filter((m) => m.name === 'http_requests_total'));
    expect(requests.flatMap((m) => m.keys)).to.deep.equal(
      whole.metrics.find((m) => m.name === 'http_requests_total')!.keys,
    );
  });

  it('a series recorded while a snapshot is being read is in a later part, once; values are read at each part', () => {
    const w = worker(1);
    const reader = new SnapshotReader(w.all);
    const first = reader.next(1000);
    // A new label set and another request on one already read, and on one not read yet.
    w.recordRequest('GET', '/late/:id', '200', 'user', 0.001);
    w.recordRequest('GET', '/r0/:id', '200', 'user', 0.001);
    w.recordRequest('GET', '/r2400/:id', '200', 'user', 0.001);
    const rest: Snapshot[] = [];
    while (!reader.done) rest.push(reader.next(1000));
    const requests = [first, ...rest].flatMap((p) =>
      p.metrics.filter((m) => m.name === 'http_requests_total'),
    );
    const values = new Map<string, number>();
    for (const m of requests) {
      m.keys.forEach((key, i) => {
        expect(values.has(key), key).to.equal(false);
        values.set(key, m.values![i]);
      });
    }
    expect(values.size).to.equal(LABEL_SETS + 1);
    const of = (path: string) => {
      const found = [...values].filter(([key]) => attributesOf(key).path === path);
      expect(found, path).to.have.length(1);
      return found[0][1];
    };
    expect(of('/late/:id')).to.equal(1);
    expect(of('/r0/:id')).to.equal(1); // read before its second request
    expect(of('/r2400/:id')).to.equal(2); // read after it
  });

  it('the parts of three workers add up to the exact total, sent in parts and put back in slices', async () => {
    const workers = [worker(1), worker(2), worker(3)];
    const totals = new Totals();
    const slicer = new Slicer(0); // a turn of the event loop at every check: the most cuts
    for (const w of workers) {
      for (const part of parts(new SnapshotReader(w.all), 700)) {
        await totals.addSliced(part, slicer);
      }
    }
    const received: Snapshot = { metrics: [] };
    for (const part of totals.parts(900)) {
      const series = part.metrics.reduce((n, m) => n + m.keys.length, 0);
      expect(series).to.be.at.most(900);
      received.metrics.push(...(JSON.parse(JSON.stringify(part)) as Snapshot).metrics);
    }
    const metrics = await new TotalView().update(received, new Slicer(0));

    const requests = metrics.find((m) => m.definition.name === 'http_requests_total')!;
    const values = [...(requests.liveSeries() as Iterable<CounterSeries>)];
    expect(values).to.have.length(LABEL_SETS);
    for (const s of values) expect(s.value).to.equal(6);
    expect(values[17].attributes).to.deep.equal({
      method: 'GET',
      path: '/r17/:id',
      status: '200',
      entity_type: 'user',
    });

    const duration = metrics.find((m) => m.definition.name === 'http_request_duration_seconds')!;
    const histograms = [...(duration.liveSeries() as Iterable<HistogramSeries>)];
    expect(histograms).to.have.length(LABEL_SETS);
    for (const s of histograms) {
      expect(s.count).to.equal(6);
      expect(s.counts.reduce((a, b) => a + b, 0)).to.equal(6);
    }
    const r4 = histograms.find((s) => s.attributes.path === '/r4/:id')!;
    expect(r4.sum).to.be.closeTo(6 * 0.004, 1e-12);
  });
});

/** A histogram snapshot of one series (`path`), bounds `boundaries`, bucket `counts` and `sum`. */
function histogram(boundaries: number[], counts: number[], sum: number): Snapshot {
  return {
    metrics: [
      {
        name: 'http_request_duration_seconds',
        description: 'd',
        unit: 's',
        kind: 'histogram',
        boundaries,
        keys: ['path\u0002/a'],
        counts,
        sums: [sum],
      },
    ],
  };
}

describe('cluster totals of workers that differ', () => {
  it('histograms of other buckets add up exactly on the bounds they share, and say so', async () => {
    const totals = new Totals();
    totals.add(histogram([1, 2, 5], [1, 2, 3, 4], 40)); // 10 observations
    await totals.addSliced(histogram([1, 5, 10], [5, 6, 7, 8], 200), new Slicer(0)); // 26
    totals.add(histogram([1, 2, 5], [1, 0, 0, 1], 9)); // 2, onto the shared bounds
    expect(totals.snapshot().metrics).to.deep.equal([
      {
        name: 'http_request_duration_seconds',
        description: 'd',
        unit: 's',
        kind: 'histogram',
        boundaries: [1, 5],
        keys: ['path\u0002/a'],
        // <=1: 1+5+1; (1,5]: 2+3+6+0; > 5: 4+7+8+1
        counts: [7, 11, 20],
        sums: [249],
      },
    ]);
    expect([...totals.mismatches.rebucketed]).to.deep.equal(['http_request_duration_seconds']);
  });

  it('a metric of another kind under the same name is counted, not silently left out', () => {
    const totals = new Totals();
    totals.add({
      metrics: [
        { name: 'm', description: '', unit: '', kind: 'counter', keys: ['a'], values: [2] },
      ],
    });
    totals.add({
      metrics: [
        { name: 'm', description: '', unit: '', kind: 'gauge', keys: ['a', 'b'], values: [1, 1] },
      ],
    });
    expect(totals.snapshot().metrics[0].values).to.deep.equal([2]);
    expect([...totals.mismatches.unmerged]).to.deep.equal([['m', 2]]);
  });

  it('a kept total holds at most its limit of series per metric; the rest add up in the overflow series', () => {
    const totals = new Totals(() => 3);
    for (const key of ['a', 'b', 'c', 'd', 'a']) {
      totals.add({
        metrics: [
          { name: 'm', description: '', unit: '', kind: 'counter', keys: [key], values: [5] },
        ],
      });
    }
    const [m] = totals.snapshot().metrics;
    expect(m.keys).to.deep.equal(['a', 'b', 'otel.metric.overflow\u0002true']);
    expect(m.values).to.deep.equal([10, 5, 10]);
    expect(totals.size).to.equal(3);
  });

  it('a kept total past its limit still takes the label sets already served: only the others overflow', () => {
    const totals = new Totals(
      () => 3,
      (name, key) => name === 'm' && key === 'd',
    );
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      totals.add({
        metrics: [
          { name: 'm', description: '', unit: '', kind: 'counter', keys: [key], values: [5] },
        ],
      });
    }
    const [m] = totals.snapshot().metrics;
    expect(m.keys).to.deep.equal(['a', 'b', 'otel.metric.overflow\u0002true', 'd']);
    expect(m.values).to.deep.equal([5, 5, 10, 5]);
    expect(totals.has('m', 'd')).to.equal(true);
    expect(totals.has('m', 'e')).to.equal(false);
  });

  it('parts kept in typed arrays, as the processes keep what they decode, add up to the same exact total', async () => {
    // 150 series per histogram: more than a total's first allocation, so that it grows.
    const many = (times: number, boundaries: number[]): Snapshot => ({
      metrics: [
        {
          name: 'h',
          description: '',
          unit: 's',
          kind: 'histogram',
          boundaries,
          keys: Array.from({ length: 150 }, (_, i) => `path\u0002/r${i}`),
          // Series i: `times * i` in every bucket of a bound, 1 in +Inf.
          counts: Array.from({ length: 150 }, (_, i) => [
            ...boundaries.map(() => times * i),
            1,
          ]).flat(),
          sums: Array.from({ length: 150 }, (_, i) => times * i + 0.25),
        },
        {
          name: 'c_total',
          description: '',
          unit: '',
          kind: 'counter',
          keys: ['a', 'b'],
          values: [times * 2 ** 40, 0.5],
        },
      ],
    });
    const decoded = (snapshot: Snapshot): Snapshot =>
      JSON.parse(JSON.stringify(snapshot)) as Snapshot;
    const kept: KeptSnapshot = { metrics: decoded(many(1, [1, 2, 5])).metrics.map(keptPart) };
    expect(kept.metrics[0].counts).to.be.an.instanceOf(Float64Array);
    expect(kept.metrics[1].values).to.be.an.instanceOf(Float64Array);
    const plain = new Totals().add(decoded(many(1, [1, 2, 5]))).add(decoded(many(2, [1, 5])));
    const typed = new Totals();
    await typed.addSliced(kept, new Slicer(0));
    // Other buckets after growth: every series moves onto the shared bounds [1, 5].
    await typed.addSliced(
      { metrics: decoded(many(2, [1, 5])).metrics.map(keptPart) },
      new Slicer(0),
    );
    const total = typed.snapshot();
    expect(total).to.deep.equal(plain.snapshot());
    const [h, c] = total.metrics;
    expect(h.boundaries).to.deep.equal([1, 5]);
    // Series 7: <=1 7 + 14; (1,5] 7 + 7 (the first's (1,2] and (2,5]) + 14; +Inf 1 + 1.
    expect(h.counts!.slice(7 * 3, 8 * 3)).to.deep.equal([21, 28, 2]);
    expect(h.sums![7]).to.equal(7.25 + 14.25);
    expect(c.values).to.deep.equal([3 * 2 ** 40, 1]);
    expect([...typed.mismatches.rebucketed]).to.deep.equal(['h']);
  });

  it("a counter's series missing from a later total keeps its value in the view; a gauge's goes", async () => {
    const view = new TotalView();
    const total = (keys: string[], n: number): KeptSnapshot => ({
      metrics: [
        {
          name: 'c_total',
          description: '',
          unit: '',
          kind: 'counter',
          keys,
          values: keys.map(() => n),
        },
        { name: 'g', description: '', unit: '', kind: 'gauge', keys, values: keys.map(() => n) },
        {
          name: 'h',
          description: '',
          unit: 's',
          kind: 'histogram',
          boundaries: [1],
          keys,
          counts: new Float64Array(keys.flatMap(() => [n, 1])),
          sums: new Float64Array(keys.map(() => n + 0.5)),
        },
      ],
    });
    await view.update(total(['path\u0002/a', 'path\u0002/b'], 1));
    const metrics = await view.update(total(['path\u0002/b'], 3), new Slicer(0));
    const series = metrics.map((m) =>
      [...(m.liveSeries() as Iterable<CounterSeries | HistogramSeries>)].map((s) =>
        'value' in s ? [s.attributes, s.value] : [s.attributes, s.counts, s.count, s.sum],
      ),
    );
    expect(series).to.deep.equal([
      [
        [{ path: '/b' }, 3],
        [{ path: '/a' }, 1],
      ],
      [[{ path: '/b' }, 3]],
      [
        [{ path: '/b' }, [3, 1], 4, 3.5],
        [{ path: '/a' }, [1, 1], 2, 1.5],
      ],
    ]);
  });

  it('a view update changes none of the metrics handed out before (a scrape still writing reads one total)', async () => {
    const view = new TotalView();
    const total = (n: number): Snapshot => ({
      metrics: [
        { name: 'c_total', description: '', unit: '', kind: 'counter', keys: ['a'], values: [n] },
        { name: 'g', description: '', unit: '', kind: 'gauge', keys: ['x'], values: [n] },
      ],
    });
    const first = await view.update(total(1));
    const values = (metrics: typeof first) =>
      metrics.map((m) => [...(m.liveSeries() as Iterable<CounterSeries>)].map((s) => s.value));
    const second = await view.update(total(2), new Slicer(0));
    expect(values(first)).to.deep.equal([[1], [1]]);
    expect(values(second)).to.deep.equal([[2], [2]]);
    // The attributes objects stay (the serializer caches label text by them).
    const attributes = (metrics: typeof first) =>
      [...(metrics[0].liveSeries() as Iterable<CounterSeries>)][0].attributes;
    expect(attributes(second)).to.equal(attributes(first));
  });
});
