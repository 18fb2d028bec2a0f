// A worker still sending its snapshot when the cluster timeout has passed is slow, not gone: the
// primary's wait starts again at each part that comes in, so the total counts its latest
// snapshot, not its last one (none at a first scrape), and the scrape calls no worker late.
// A worker that sends nothing for the timeout is late, as before (test/cluster.test.ts).
import { EventEmitter } from 'node:events';
import type { Cluster } from 'node:cluster';
import { expect } from './helpers/chai';
import { ClusterPrimary } from '../src/cluster/primary';
import { CMD, type ClusterMessage } from '../src/cluster/protocol';
import type { Snapshot } from '../src/cluster/snapshot';
import { snapshotParts } from './helpers/snapshot-parts';

const TIMEOUT_MS = 200;
/** Between two parts of the slow worker: its whole snapshot takes well over the timeout. */
const PART_GAP_MS = 80;

/** A worker's end of the channel that answers `collect` and `more` with `parts`, `gapMs` apart. */
class SlowWorker extends EventEmitter {
  private readonly channel = new EventEmitter();
  readonly process: EventEmitter & { send: (m: ClusterMessage, cb: () => void) => boolean };
  private next = 0;

  constructor(
    readonly id: number,
    private readonly parts: Snapshot[],
    private readonly gapMs: number,
  ) {
    super();
    this.process = Object.assign(this.channel, {
      send: (message: ClusterMessage, callback: () => void): boolean => {
        callback();
        if (message.type === 'collect' || message.type === 'more') {
          const round = message.round;
          if (message.type === 'collect') this.next = 0;
          setTimeout(() => this.sendPart(round), this.gapMs);
        }
        return true;
      },
    });
  }

  isConnected(): boolean {
    return true;
  }

  isDead(): boolean {
    return false;
  }

  hello(): void {
    this.channel.emit('internalMessage', { cmd: CMD, type: 'hello' });
  }

  private sendPart(round: number): void {
    const snapshot = this.parts[this.next++];
    const done = this.next === this.parts.length;
    this.channel.emit('internalMessage', { cmd: CMD, type: 'snapshot', round, snapshot, done });
  }
}

function valueOf(total: Snapshot, name: string, key: string): number | undefined {
  for (const m of total.metrics) {
    if (m.name !== name) continue;
    const at = m.keys.indexOf(key);
    if (at >= 0) return m.values![at];
  }
  return undefined;
}

describe('cluster primary: a slow worker', () => {
  it('is waited for while it keeps sending parts, and counted exactly, not late', async () => {
    const slowParts = snapshotParts(1500, 3);
    expect(slowParts.length).to.be.greaterThan(3);
    const cluster = new EventEmitter();
    const slow = new SlowWorker(1, slowParts, PART_GAP_MS);
    const quick = new SlowWorker(2, snapshotParts(1500, 2), 0);
    const primary = new ClusterPrimary(cluster as unknown as Cluster, { timeoutMs: TIMEOUT_MS });
    const stop = primary.start();
    try {
      for (const w of [slow, quick]) {
        cluster.emit('fork', w);
        w.hello();
      }
      const total = (await primary.gather()).snapshot();
      const key = (path: string): string =>
        `method\u0002GET\u0001path\u0002${path}\u0001status\u0002200\u0001entity_type\u0002user`;
      // 3 requests on each label set in the slow worker, 2 in the quick one.
      expect(valueOf(total, 'http_requests_total', key('/r0'))).to.equal(5);
      expect(valueOf(total, 'http_requests_total', key('/r1499'))).to.equal(5);
      const workers = (state: string): number | undefined =>
        valueOf(total, 'scanopy_metrics_cluster_workers', `state\u0002${state}`);
      expect(workers('answered')).to.equal(2);
      expect(workers('late')).to.equal(0);
    } finally {
      stop();
    }
  });
});
