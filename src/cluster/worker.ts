// A preloaded worker: answers the primary's snapshot requests, asks it for the total at scrape time.
import { diag } from '../diagnostics/diag';
import { Interner } from './interner';
import { CMD, SNAPSHOT_PARTS_IN_FLIGHT, isClusterMessage, type ClusterMessage } from './protocol';
import {
  keptPart,
  SnapshotReader,
  type KeptSnapshot,
  type MetricSnapshot,
  type Numbers,
  type OwnMetric,
} from './snapshot';

/** What a cluster worker's `process` offers (node:cluster sets up the IPC channel). */
export interface WorkerChannel {
  send?: (message: ClusterMessage, callback: (error: Error | null) => void) => boolean;
  connected?: boolean;
  on(event: 'internalMessage', listener: (message: unknown) => void): unknown;
  off(event: 'internalMessage', listener: (message: unknown) => void): unknown;
}

export interface ClusterWorkerOptions {
  /** How long a scrape waits for the primary's total before it fails. */
  timeoutMs: number;
}

interface Pending {
  /** The parts of the total received so far. */
  parts: MetricSnapshot<Numbers>[];
  resolve: (snapshot: KeptSnapshot) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A preloaded worker's part: it says hello to the primary, answers the primary's requests for a
 * snapshot of its metrics, and asks the primary for the cluster's total when it answers a scrape.
 * Until a preloaded primary has answered the hello (PM2's daemon never does), `aggregated` is
 * false and the worker serves its own metrics.
 */
export class ClusterWorker {
  private welcomed = false;
  private settleReady: (() => void) | undefined;
  /**
   * Resolves once the primary has welcomed this worker, or once it is clear that it will not:
   * a scrape before then must not serve this worker's own counts, lower than the total.
   */
  readonly ready: Promise<void>;
  private nextId = 0;
  /** Where a failed authentication another worker recorded goes (this worker's limiter). */
  onAuthFailure: ((client: string) => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  /** The snapshot being sent, a part each time the primary asks for the next one. */
  private answering: { round: number; reader: SnapshotReader; sentAt: number } | undefined;
  /**
   * The newest round asked for while a snapshot was being sent: it is answered next, and the
   * rounds before it not at all (one snapshot, the newest, answers them), so that a worker slower
   * than the scrapes holds one request at most, never a queue of them.
   */
  private queued: number | undefined;
  /** The total's series keys, one string each from one total to the next. */
  private readonly keys = new Interner();

  constructor(
    private readonly channel: WorkerChannel,
    private readonly metrics: () => readonly OwnMetric[],
    private readonly options: ClusterWorkerOptions,
  ) {
    this.ready = new Promise((resolve) => (this.settleReady = resolve));
  }

  get aggregated(): boolean {
    return this.welcomed;
  }

  start(): () => void {
    const onMessage = (message: unknown): void => {
      try {
        this.receive(message);
      } catch (error) {
        // A message of another shape (a primary of another version of the package) is dropped:
        // it must not crash the service's worker.
        diag.error('scanopy-metrics: cluster: a message from the primary could not be read', error);
      }
    };
    this.channel.on('internalMessage', onMessage);
    const timer = setTimeout(() => this.settleReady?.(), this.options.timeoutMs);
    timer.unref();
    if (!this.send({ cmd: CMD, type: 'hello' })) this.settleReady?.();
    return () => {
      clearTimeout(timer);
      this.settleReady?.();
      this.channel.off('internalMessage', onMessage);
      for (const [id, pending] of this.pending) this.settle(id, pending, new Error('stopped'));
    };
  }

  /** Tells the other workers, through the primary, of a failed authentication here. */
  shareAuthFailure(client: string): void {
    if (this.welcomed) this.send({ cmd: CMD, type: 'auth-failure', client });
  }

  /**
   * The cluster's total, from the primary; rejects when the primary does not answer in time (the
   * wait starts again at each sign of the primary's progress and at each part of the total).
   */
  gather(): Promise<KeptSnapshot> {
    const id = ++this.nextId;
    this.keys.nextGeneration();
    return new Promise<KeptSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = this.pending.get(id);
        if (pending) {
          this.settle(id, pending, new Error('the cluster primary did not answer in time'));
        }
      }, this.options.timeoutMs);
      timer.unref();
      this.pending.set(id, { parts: [], resolve, reject, timer });
      if (!this.send({ cmd: CMD, type: 'gather', id })) {
        this.settle(id, this.pending.get(id)!, new Error('the cluster primary is gone'));
      }
    });
  }

  private settle(id: number, pending: Pending, error: Error): void {
    clearTimeout(pending.timer);
    this.pending.delete(id);
    pending.reject(error);
  }

  private receive(message: unknown): void {
    if (!isClusterMessage(message)) return;
    switch (message.type) {
      case 'welcome':
        this.welcomed = true;
        this.settleReady?.();
        break;
      case 'collect': {
        // A snapshot whose next part the primary has not asked for in a long while is given up.
        if (
          this.answering !== undefined &&
          performance.now() - this.answering.sentAt > this.options.timeoutMs
        ) {
          this.answering = undefined;
        }
        if (this.answering !== undefined) {
          this.queued = Math.max(this.queued ?? 0, message.round);
        } else {
          this.startAnswer(message.round);
        }
        break;
      }
      case 'more':
        if (this.answering?.round === message.round) this.sendPart();
        break;
      case 'auth-failure':
        if (typeof message.client === 'string') this.onAuthFailure?.(message.client);
        break;
      case 'gathering':
        this.pending.get(message.id)?.timer.refresh();
        break;
      case 'total': {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return;
        for (const part of message.snapshot.metrics) {
          this.keys.intern(part.keys);
          pending.parts.push(keptPart(part));
        }
        if (!message.done) {
          // The primary is answering: the wait starts again at each part, so that a total that
          // comes in many parts over a slow (loaded) channel is not given up on half-way.
          pending.timer.refresh();
          const id = message.id;
          // Asked for in the next turn, not in this one: the channel's reads of one turn go on
          // while data keeps coming, so a part asked for at once could arrive in time to be read
          // and decoded in the same turn, and the next, until the whole total had been.
          setImmediate(() => {
            if (this.pending.has(id)) this.send({ cmd: CMD, type: 'more-total', id });
          });
          return;
        }
        clearTimeout(pending.timer);
        this.pending.delete(message.id);
        pending.resolve({ metrics: pending.parts });
        break;
      }
    }
  }

  /** Starts sending this process's snapshot for `round`: its first part. */
  private startAnswer(round: number): void {
    try {
      this.answering = { round, reader: new SnapshotReader(this.metrics()), sentAt: 0 };
    } catch {
      // A snapshot that cannot be read: the primary uses this worker's last one.
      this.answering = undefined;
      return;
    }
    // A few parts ahead, then one for each that the primary has taken in.
    for (let i = 0; i < SNAPSHOT_PARTS_IN_FLIGHT && this.answering?.round === round; i++)
      this.sendPart();
  }

  /**
   * Sends the next part of the snapshot under way; after the last one, starts the newest round
   * asked for meanwhile, if any.
   */
  private sendPart(): void {
    const answering = this.answering;
    if (answering === undefined) return;
    let sent = false;
    let done = true;
    try {
      const snapshot = answering.reader.next();
      done = answering.reader.done;
      sent = this.send({ cmd: CMD, type: 'snapshot', round: answering.round, snapshot, done });
    } catch {
      // A part that cannot be read or sent: the primary uses this worker's last snapshot.
    }
    answering.sentAt = performance.now();
    if (sent && !done) return;
    this.answering = undefined;
    const queued = this.queued;
    this.queued = undefined;
    if (queued !== undefined) this.startAnswer(queued);
  }

  private send(message: ClusterMessage): boolean {
    if (this.channel.send === undefined || this.channel.connected === false) return false;
    try {
      this.channel.send(message, () => undefined);
      return true;
    } catch {
      return false;
    }
  }
}
