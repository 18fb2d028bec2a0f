// A cluster worker slower than the scrapes: the primary's requests for its snapshot never queue
// up in it; it answers the one it is on, then the newest asked for meanwhile, and no other; and
// it sends a part of its snapshot only when the primary asks for it, one part in flight.
import { EventEmitter } from 'node:events';
import { expect } from './helpers/chai';
import { Instruments } from '../src/collection/instruments';
import { CMD, SNAPSHOT_PARTS_IN_FLIGHT, type ClusterMessage } from '../src/cluster/protocol';
import { ClusterWorker } from '../src/cluster/worker';

/** The worker's side of an IPC channel, as node:cluster gives a worker's `process`. */
class Channel extends EventEmitter {
  readonly sent: ClusterMessage[] = [];
  /** What went each way, in order: `part`, `last` (snapshot parts sent), and what was delivered. */
  readonly log: string[] = [];
  connected = true;
  send = (message: ClusterMessage, callback: (error: Error | null) => void): boolean => {
    this.sent.push(message);
    if (message.type === 'snapshot') this.log.push(message.done ? 'last' : 'part');
    callback(null);
    // As the primary does: the next part is asked for once a part is in.
    if (message.type === 'snapshot' && !message.done) {
      const round = message.round;
      setImmediate(() => this.deliver({ cmd: CMD, type: 'more', round }));
    }
    return true;
  };
  deliver(message: ClusterMessage): void {
    this.log.push(message.type);
    this.emit('internalMessage', message);
  }
}

describe('cluster worker: a bounded answer queue', () => {
  it('requests that arrive while a snapshot is being sent are answered once, with the newest round', async () => {
    const instruments = new Instruments({ cardinalityLimit: 5000 });
    // 3,000 label sets: a snapshot of several parts, a turn of the event loop apart.
    for (let i = 0; i < 3000; i++) instruments.recordRequest('GET', `/r${i}`, '200', 'user', 0.01);
    const channel = new Channel();
    const worker = new ClusterWorker(channel, () => instruments.all, { timeoutMs: 60_000 });
    const stop = worker.start();
    try {
      channel.deliver({ cmd: CMD, type: 'welcome' });
      for (let round = 1; round <= 50; round++)
        channel.deliver({ cmd: CMD, type: 'collect', round });
      const rounds = (): number[] =>
        channel.sent.flatMap((m) => (m.type === 'snapshot' && m.done ? [m.round] : []));
      for (let i = 0; i < 200 && rounds().length < 2; i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      // One more look after the answers: nothing further was sent.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(rounds()).to.deep.equal([1, 50]);
      // Each of the two is a whole snapshot: as many series for round 1 as for round 50.
      const seriesOf = (round: number): number =>
        channel.sent.reduce(
          (n, m) =>
            m.type === 'snapshot' && m.round === round
              ? n + m.snapshot.metrics.reduce((k, x) => k + x.keys.length, 0)
              : n,
          0,
        );
      expect(seriesOf(1)).to.be.greaterThan(3000);
      expect(seriesOf(50)).to.equal(seriesOf(1));
      // Never two parts in a row without the primary's `more` between them.
      // Parts sent and not yet asked for: never more than SNAPSHOT_PARTS_IN_FLIGHT of one snapshot.
      let outstanding = 0;
      let most = 0;
      for (const entry of channel.log) {
        if (entry === 'more') outstanding--;
        if (entry === 'part') most = Math.max(most, ++outstanding);
        if (entry === 'last') outstanding = 0;
      }
      expect(channel.log.filter((e) => e === 'more').length).to.be.greaterThan(4);
      expect(most).to.equal(SNAPSHOT_PARTS_IN_FLIGHT);
    } finally {
      stop();
    }
  });
});
