// Who the primary waits for: a hello read after its worker's exit makes no member (Node reads a
// channel's last messages after 'exit'), a worker that exits or whose channel closes before its
// turn is not asked, one whose channel closes while asked is not waited for, and the worker that
// waits for the total hears that a long gather is under way, so that it does not give up on it.
// And what it keeps of exited workers: past the kept total's limit, a label set a scrape served
// already stays where it was, so that no counter goes back.
import { EventEmitter } from 'node:events';
import type { Cluster } from 'node:cluster';
import { expect } from './helpers/chai';
import { ClusterPrimary } from '../src/cluster/primary';
import { CMD, type ClusterMessage } from '../src/cluster/protocol';
import type { Snapshot } from '../src/cluster/snapshot';
import { ClusterWorker } from '../src/cluster/worker';
import { snapshotParts } from './helpers/snapshot-parts';
import { nextTurn } from './helpers/wait';

/**
 * A node:cluster Worker as the primary sees it: its channel records what the primary sends, and
 * answers `collect` and `more` with `parts` one a turn unless `silent`.
 */
class FakeWorker extends EventEmitter {
  readonly sent: ClusterMessage[] = [];
  readonly process: EventEmitter & { send: (m: ClusterMessage, cb: () => void) => boolean };
  connected = true;
  dead = false;
  silent = false;
  private next = 0;

  constructor(
    readonly id: number,
    private readonly parts: Snapshot[] = snapshotParts(10),
  ) {
    super();
    this.process = Object.assign(new EventEmitter(), {
      send: (message: ClusterMessage, callback: () => void): boolean => {
        this.sent.push(message);
        callback();
        if (!this.silent && (message.type === 'collect' || message.type === 'more')) {
          if (message.type === 'collect') this.next = 0;
          const round = message.round;
          setImmediate(() => this.sendPart(round));
        }
        return true;
      },
    });
  }

  isConnected(): boolean {
    return this.connected;
  }

  isDead(): boolean {
    return this.dead;
  }

  deliver(message: ClusterMessage): void {
    this.process.emit('internalMessage', message);
  }

  count(type: ClusterMessage['type']): number {
    return this.sent.filter((m) => m.type === type).length;
  }

  private sendPart(round: number): void {
    const snapshot = this.parts[this.next++];
    const done = this.next === this.parts.length;
    this.deliver({ cmd: CMD, type: 'snapshot', round, snapshot, done });
  }
}

/** The cluster's workers gauge of a total, by state. */
function workers(total: Snapshot): Record<string, number> {
  const metric = total.metrics.find((m) => m.name === 'scanopy_metrics_cluster_workers')!;
  return Object.fromEntries(
    metric.keys.map((key, i) => [key.split('\u0002')[1], metric.values![i]]),
  );
}

describe('cluster primary: the workers it waits for', () => {
  const cluster = new EventEmitter();
  let stop: () => void = () => undefined;
  afterEach(() => {
    stop();
    cluster.removeAllListeners();
  });

  const primaryOf = (timeoutMs: number): ClusterPrimary => {
    const primary = new ClusterPrimary(cluster as unknown as Cluster, { timeoutMs });
    stop = primary.start();
    return primary;
  };
  const join = (worker: FakeWorker): void => {
    cluster.emit('fork', worker);
    worker.deliver({ cmd: CMD, type: 'hello' });
  };

  it('a hello read after the exit makes no member: the next gather waits for nobody', async () => {
    const primary = primaryOf(100);
    const ghost = new FakeWorker(1);
    ghost.silent = true;
    cluster.emit('fork', ghost);
    ghost.dead = true;
    ghost.connected = false;
    cluster.emit('exit', ghost);
    ghost.deliver({ cmd: CMD, type: 'hello' });
    expect(ghost.count('welcome')).to.equal(0);
    const total = (await primary.gather()).snapshot();
    expect(workers(total)).to.deep.equal({ answered: 0, late: 0, exited: 0 });
    expect(ghost.count('collect')).to.equal(0);
  });

  it('a worker that exits before its turn is not asked, and counts as exited', async () => {
    const primary = primaryOf(60_000);
    const first = new FakeWorker(1);
    const second = new FakeWorker(2);
    join(first);
    join(second);
    let settled = false;
    const gather = primary.gather().then((totals) => {
      settled = true;
      return totals;
    });
    // The first is asked (one worker at a time); the second exits before its turn.
    expect(first.count('collect')).to.equal(1);
    second.dead = true;
    second.connected = false;
    cluster.emit('exit', second);
    // The gather ends once the first has answered (its parts take a few turns), not at the timeout.
    for (let i = 0; i < 50 && !settled; i++) await nextTurn();
    expect(settled).to.equal(true);
    const total = (await gather).snapshot();
    expect(second.count('collect')).to.equal(0);
    expect(workers(total)).to.deep.equal({ answered: 1, late: 0, exited: 1 });
  });

  it('a worker whose channel closed is not asked, and counts as late with its last snapshot', async () => {
    const primary = primaryOf(60_000);
    const leaving = new FakeWorker(1, snapshotParts(10, 3));
    const staying = new FakeWorker(2, snapshotParts(10, 2));
    join(leaving);
    join(staying);
    expect(workers((await primary.gather()).snapshot())).to.deep.equal({
      answered: 2,
      late: 0,
      exited: 0,
    });
    leaving.connected = false;
    leaving.emit('disconnect');
    let settled = false;
    const gather = primary.gather().then((totals) => {
      settled = true;
      return totals;
    });
    for (let i = 0; i < 50 && !settled; i++) await nextTurn();
    expect(settled).to.equal(true);
    const total = (await gather).snapshot();
    expect(leaving.count('collect')).to.equal(1);
    expect(workers(total)).to.deep.equal({ answered: 1, late: 1, exited: 0 });
    const requests = total.metrics.find((m) => m.name === 'http_requests_total')!;
    expect(requests.values![0]).to.equal(5);
  });

  it('a worker whose channel closes while asked is not waited for', async () => {
    const primary = primaryOf(60_000);
    const leaving = new FakeWorker(1);
    leaving.silent = true;
    join(leaving);
    let settled = false;
    const gather = primary.gather().then((totals) => {
      settled = true;
      return totals;
    });
    for (let i = 0; i < 20 && leaving.count('collect') === 0; i++) await nextTurn();
    expect(leaving.count('collect')).to.equal(1);
    leaving.connected = false;
    leaving.emit('disconnect');
    for (let i = 0; i < 20 && !settled; i++) await nextTurn();
    expect(settled).to.equal(true);
    expect(workers((await gather).snapshot())).to.deep.equal({ answered: 0, late: 1, exited: 0 });
  });

  it('a message of another shape (a worker of another version) is dropped; the gather goes on', async () => {
    const primary = primaryOf(60_000);
    const worker = new FakeWorker(1, snapshotParts(10, 4));
    join(worker);
    const odd = [
      { cmd: CMD, type: 'snapshot', round: 1 },
      { cmd: CMD, type: 'snapshot', round: 1, snapshot: { metrics: [{ keys: 7 }] }, done: true },
    ];
    for (const message of odd) worker.deliver(message as unknown as ClusterMessage);
    const total = (await primary.gather()).snapshot();
    expect(workers(total)).to.deep.equal({ answered: 1, late: 0, exited: 0 });
    const requests = total.metrics.find((m) => m.name === 'http_requests_total')!;
    expect(requests.values![0]).to.equal(4);
  });

  it('tells the worker waiting for the total that the gather is under way, once per half timeout', async () => {
    const primary = primaryOf(60_000);
    const scraped = new FakeWorker(1, snapshotParts(2500));
    const other = new FakeWorker(2, snapshotParts(2500));
    join(scraped);
    join(other);
    scraped.deliver({ cmd: CMD, type: 'gather', id: 7 });
    await primary.gather();
    // Six parts came in (three a worker), the first of them told the waiting worker.
    expect(scraped.sent.filter((m) => m.type === 'gathering')).to.deep.equal([
      { cmd: CMD, type: 'gathering', id: 7 },
    ]);
    expect(other.count('gathering')).to.equal(0);
  });
});

describe('cluster worker: waiting for the total', () => {
  it('a total of another shape (a primary of another version) is dropped, not thrown', () => {
    const channel = Object.assign(new EventEmitter(), {
      connected: true,
      send: (_m: ClusterMessage, callback: (error: Error | null) => void): boolean => {
        callback(null);
        return true;
      },
    });
    const worker = new ClusterWorker(channel, () => [], { timeoutMs: 60_000 });
    const stop = worker.start();
    try {
      channel.emit('internalMessage', { cmd: CMD, type: 'welcome' });
      const total = worker.gather();
      total.catch(() => undefined);
      expect(() =>
        channel.emit('internalMessage', { cmd: CMD, type: 'total', id: 1, done: true }),
      ).to.not.throw();
      expect(worker.aggregated).to.equal(true);
    } finally {
      stop();
    }
  });

  it('waits on past its timeout while the primary says the gather is under way', async () => {
    const channel = Object.assign(new EventEmitter(), {
      connected: true,
      send: (_m: ClusterMessage, callback: (error: Error | null) => void): boolean => {
        callback(null);
        return true;
      },
    });
    const deliver = (message: ClusterMessage): boolean => channel.emit('internalMessage', message);
    const worker = new ClusterWorker(channel, () => [], { timeoutMs: 300 });
    const stop = worker.start();
    try {
      deliver({ cmd: CMD, type: 'welcome' });
      const total = worker.gather();
      // Six notices 150 ms apart: 900 ms, three times the worker's timeout. Each is due before
      // the worker's wait (refreshed by the one before) ends, whatever the machine's load.
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        deliver({ cmd: CMD, type: 'gathering', id: 1 });
      }
      const [part] = snapshotParts(10);
      deliver({ cmd: CMD, type: 'total', id: 1, snapshot: part, done: true });
      const snapshot = await total;
      expect(snapshot.metrics.map((m) => m.name)).to.deep.equal(part.metrics.map((m) => m.name));
    } finally {
      stop();
    }
  });
});

/** A counter snapshot of `keys` (each `value`), in one part. */
function counters(keys: string[], value: number): Snapshot[] {
  const values = keys.map(() => value);
  return [
    {
      metrics: [
        { name: 'http_requests_total', description: '', unit: '', kind: 'counter', keys, values },
      ],
    },
  ];
}

/** The value of `key` in the total's http_requests_total, and the overflow series'. */
function requestsOf(total: Snapshot, key: string): number | undefined {
  for (const m of total.metrics) {
    if (m.name !== 'http_requests_total') continue;
    const at = m.keys.indexOf(key);
    if (at >= 0) return m.values![at];
  }
  return undefined;
}

describe('cluster primary: the kept total of exited workers, past its limit', () => {
  const cluster = new EventEmitter();
  let stop: () => void = () => undefined;
  afterEach(() => {
    stop();
    cluster.removeAllListeners();
  });

  it('a served label set of a worker that exits stays, exact: no counter goes back or doubles', async () => {
    const primary = new ClusterPrimary(cluster as unknown as Cluster, { timeoutMs: 60_000 });
    stop = primary.start();
    const many = (prefix: string): string[] =>
      Array.from({ length: 10_000 }, (_, i) => `path\u0002/${prefix}${i}`);
    // Two workers of 10,000 label sets each fill the kept total (its limit: 20,000 a metric).
    const filling = [
      new FakeWorker(1, counters(many('a'), 1)),
      new FakeWorker(2, counters(many('b'), 1)),
    ];
    const leaving = new FakeWorker(3, counters(['path\u0002/shared', 'path\u0002/own'], 1));
    const staying = new FakeWorker(4, counters(['path\u0002/shared'], 2));
    const exit = (worker: FakeWorker): void => {
      worker.dead = true;
      worker.connected = false;
      cluster.emit('exit', worker);
    };
    for (const worker of [...filling, leaving, staying]) {
      cluster.emit('fork', worker);
      worker.deliver({ cmd: CMD, type: 'hello' });
    }
    const before = (await primary.gather()).snapshot();
    expect(requestsOf(before, 'path\u0002/shared')).to.equal(3);
    expect(requestsOf(before, 'path\u0002/own')).to.equal(1);
    for (const worker of filling) exit(worker);
    await primary.gather();
    exit(leaving);
    const after = (await primary.gather()).snapshot();
    // Before, past the limit, /shared lost the exited worker's 1 to the overflow series (3 → 2)
    // and /own went missing there, which a worker's view then served twice.
    expect(requestsOf(after, 'path\u0002/shared')).to.equal(3);
    expect(requestsOf(after, 'path\u0002/own')).to.equal(1);
    expect(requestsOf(after, 'path\u0002/a0')).to.equal(1);
    expect(requestsOf(after, 'path\u0002/b9999')).to.equal(1);
    expect(requestsOf(after, 'otel.metric.overflow\u0002true')).to.equal(undefined);
    expect(workers(after)).to.deep.equal({ answered: 1, late: 0, exited: 3 });
    const retained = after.metrics.find(
      (m) => m.name === 'scanopy_metrics_cluster_retained_series',
    );
    expect(retained?.values).to.deep.equal([20_002]);
  });
});
