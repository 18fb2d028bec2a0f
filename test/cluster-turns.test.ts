// The cluster's channels read a part per turn: the next part of a snapshot or of a total is asked
// for in a later turn than the one that received a part. Asked for at once, it can arrive while
// Node is still reading the channel in that turn, be decoded there too, and so on until a whole
// total of megabytes had been decoded in one turn (measured: 30 ms of a worker's CPU).
import { EventEmitter } from 'node:events';
import type { Cluster } from 'node:cluster';
import { expect } from './helpers/chai';
import { ClusterPrimary } from '../src/cluster/primary';
import { CMD, type ClusterMessage } from '../src/cluster/protocol';
import type { KeptSnapshot } from '../src/cluster/snapshot';
import { snapshotParts } from './helpers/snapshot-parts';
import { nextTurn, restOfTurn } from './helpers/wait';
import { ClusterWorker } from '../src/cluster/worker';

/** One end of an IPC channel: what was sent on it, and a way to deliver to the other side. */
class Channel extends EventEmitter {
  readonly sent: ClusterMessage[] = [];
  connected = true;
  send = (message: ClusterMessage, callback: (error: Error | null) => void): boolean => {
    this.sent.push(message);
    callback(null);
    return true;
  };
  deliver(message: ClusterMessage): void {
    this.emit('internalMessage', message);
  }
  count(type: ClusterMessage['type']): number {
    return this.sent.filter((m) => m.type === type).length;
  }
}

describe('cluster channels: a part per turn', () => {
  it('a worker receiving a total asks for its next part in a later turn', async () => {
    const parts = snapshotParts(1500);
    expect(parts.length).to.be.greaterThan(2);
    const channel = new Channel();
    const worker = new ClusterWorker(channel, () => [], { timeoutMs: 60_000 });
    const stop = worker.start();
    try {
      channel.deliver({ cmd: CMD, type: 'welcome' });
      const total = worker.gather();
      expect(channel.sent.at(-1)).to.deep.equal({ cmd: CMD, type: 'gather', id: 1 });
      for (let i = 0; i < parts.length - 1; i++) {
        channel.deliver({ cmd: CMD, type: 'total', id: 1, snapshot: parts[i], done: false });
        await restOfTurn();
        expect(channel.count('more-total')).to.equal(i);
        await nextTurn();
        expect(channel.count('more-total')).to.equal(i + 1);
      }
      channel.deliver({ cmd: CMD, type: 'total', id: 1, snapshot: parts.at(-1)!, done: true });
      const snapshot = await total;
      const series = (list: KeptSnapshot[]): number =>
        list.reduce((n, p) => n + p.metrics.reduce((k, m) => k + m.keys.length, 0), 0);
      expect(series([snapshot])).to.equal(series(parts));
      expect(series(parts)).to.be.greaterThan(3000);
      await nextTurn();
      expect(channel.count('more-total')).to.equal(parts.length - 1);
    } finally {
      stop();
    }
  });

  it('the primary receiving a snapshot asks for its next part in a later turn', async () => {
    const parts = snapshotParts(1500);
    const cluster = new EventEmitter();
    const channel = new Channel();
    const worker = Object.assign(new EventEmitter(), {
      id: 1,
      process: channel,
      isConnected: () => true,
      isDead: () => false,
    });
    const primary = new ClusterPrimary(cluster as unknown as Cluster, { timeoutMs: 60_000 });
    const stop = primary.start();
    try {
      cluster.emit('fork', worker);
      channel.deliver({ cmd: CMD, type: 'hello' });
      expect(channel.count('welcome')).to.equal(1);
      channel.deliver({ cmd: CMD, type: 'gather', id: 7 });
      for (let i = 0; i < 20 && channel.count('collect') === 0; i++) await nextTurn();
      const collect = channel.sent.find((m) => m.type === 'collect');
      expect(collect).to.deep.equal({ cmd: CMD, type: 'collect', round: 1 });
      for (let i = 0; i < parts.length - 1; i++) {
        channel.deliver({ cmd: CMD, type: 'snapshot', round: 1, snapshot: parts[i], done: false });
        await restOfTurn();
        expect(channel.count('more')).to.equal(i);
        await nextTurn();
        expect(channel.count('more')).to.equal(i + 1);
      }
      channel.deliver({
        cmd: CMD,
        type: 'snapshot',
        round: 1,
        snapshot: parts.at(-1)!,
        done: true,
      });
      // The total goes back to the worker that asked, in parts too: 3 ahead, one a turn (each
      // is encoded in the turn it is sent), then one for each part the worker has taken in.
      for (let i = 0; i < 200 && channel.count('total') === 0; i++) await nextTurn();
      await restOfTurn();
      expect(channel.count('total')).to.equal(1);
      await nextTurn();
      expect(channel.count('total')).to.equal(2);
      await nextTurn();
      expect(channel.count('total')).to.equal(3);
      await nextTurn();
      expect(channel.count('total')).to.equal(3);
      const done = () => channel.sent.some((m) => m.type === 'total' && m.done);
      let asked = 0;
      while (!done() && asked < 100) {
        channel.deliver({ cmd: CMD, type: 'more-total', id: 7 });
        asked++;
        expect(channel.count('total')).to.equal(3 + asked);
      }
      expect(done()).to.equal(true);
      expect(asked).to.be.greaterThan(0);
      expect(channel.count('more')).to.equal(parts.length - 1);
    } finally {
      stop();
    }
  });
});
