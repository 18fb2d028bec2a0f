// The preloaded primary: gathers the workers' snapshots at scrape time and answers with their sum.
import type { Cluster, Worker } from 'node:cluster';
import { diag } from '../diagnostics/diag';
import { CMD, TOTAL_PARTS_IN_FLIGHT, isClusterMessage, type ClusterMessage } from './protocol';
import { Interner } from './interner';
import { Slicer, yieldTurn } from './slices';
import {
  keptPart,
  labelKey,
  type KeptSnapshot,
  type MetricSnapshot,
  type Numbers,
  type Snapshot,
} from './snapshot';
import { DEFAULT_CARDINALITY_LIMIT } from '../series/series-map';
import { Totals, type Mismatches } from './totals';

export const CLUSTER_WORKERS = 'scanopy_metrics_cluster_workers';
export const CLUSTER_LATE_SNAPSHOTS = 'scanopy_metrics_cluster_late_snapshots_total';
export const CLUSTER_RETAINED_SERIES = 'scanopy_metrics_cluster_retained_series';
export const CLUSTER_REBUCKETED = 'scanopy_metrics_cluster_rebucketed';
export const CLUSTER_UNMERGED_SERIES = 'scanopy_metrics_cluster_unmerged_series';

/** Workers asked for their snapshot at a time (see `askInTurn`). */
export const SNAPSHOTS_AT_ONCE = 1;

export interface ClusterPrimaryOptions {
  /** How long a gather waits for the workers' snapshots before using their last ones. */
  timeoutMs: number;
  /** Where the one line per mismatched metric goes (stderr). */
  warn?: (line: string) => void;
}

interface Member {
  worker: Worker;
  /** The newest snapshot the worker sent, and the round it answered. */
  last?: KeptSnapshot;
  lastRound: number;
  /** The parts of the snapshot being received, for round `round`. */
  incoming?: { round: number; metrics: MetricSnapshot<Numbers>[] };
  /** Resolves the current round's wait once this worker has answered it. */
  answered?: () => void;
  /** The total being sent to this worker, a part each time it asks for the next one. */
  outgoing?: { id: number; parts: Iterator<Snapshot>; ahead: Snapshot };
}

function send(worker: Worker, message: ClusterMessage): void {
  if (!worker.isConnected()) return;
  try {
    // With a callback, a channel that closed meanwhile is reported there, not as 'error'.
    worker.process.send(message, () => undefined);
  } catch {
    // The worker is going away; its exit moves its last snapshot into the kept total.
  }
}

/**
 * The preloaded primary's part: it knows the preloaded workers, gathers their snapshots when a
 * worker's scrape asks (never on a timer, never per request), and answers with their sum.
 *
 * - A worker that does not answer within `timeoutMs` counts with its last snapshot (the scrape
 *   says so through `scanopy_metrics_cluster_workers{state="late"}`).
 * - A worker that exits leaves its last snapshot in the total (counters and histograms only),
 *   so that the total never goes backwards while this primary lives.
 * - Scrapes that arrive while a gather is under way share it.
 * - Snapshots and the total travel in parts, and the sum is made in short stretches: a gather of
 *   tens of thousands of series holds no process's event loop for more than a few milliseconds.
 */
export class ClusterPrimary {
  private readonly members = new Map<number, Member>();
  /**
   * The exited workers folded into one total per series (only a gather adds to it, one at a
   * time): it grows with the label sets, not with the workers that come and go, and holds at
   * most `retainedLimit` series per metric, but for label sets a scrape served already (more go
   * to the metric's overflow series).
   */
  private readonly retired = new Totals(
    (name) => this.retainedLimit(name),
    (name, key) => this.served?.has(name, key) === true,
  );
  /** The last total served: its label sets stay where they are in every later total. */
  private served: Totals | undefined;
  /** Per metric, the most series one worker's snapshot held. */
  private readonly widest = new Map<string, number>();
  /** The metrics already named on stderr for a mismatch. */
  private readonly told = new Set<string>();
  /** Last snapshots of workers that exited since the previous gather. */
  private readonly retiring: KeptSnapshot[] = [];
  private exited = 0;
  private lateSnapshots = 0;
  private round = 0;
  private gathering: Promise<Totals> | undefined;
  /** Restarts the gather's wait: a part of the current round came in. */
  private progress: (() => void) | undefined;
  /** The workers waiting for a total, each with the id of its newest `gather`. */
  private readonly waiting = new Map<Worker, number>();
  /** When the waiting workers were last told that the gather is under way. */
  private toldProgressAt = -Infinity;
  /** The workers' series keys, one string each however many workers and gathers send it. */
  private readonly keys = new Interner();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ClusterPrimaryOptions,
  ) {}

  /** Listens to every worker forked from now on; returns what stops it. */
  start(): () => void {
    const onFork = (worker: Worker): void => this.watch(worker);
    const onExit = (worker: Worker): void => this.retire(worker);
    this.cluster.on('fork', onFork);
    this.cluster.on('exit', onExit);
    return () => {
      this.cluster.off('fork', onFork);
      this.cluster.off('exit', onExit);
    };
  }

  private watch(worker: Worker): void {
    // A worker whose channel closed (it is shutting down) cannot answer: the gather goes on
    // without it, with its last snapshot, rather than waiting for it until the timeout.
    worker.on('disconnect', () => this.members.get(worker.id)?.answered?.());
    worker.process.on('internalMessage', (message: unknown) => {
      if (!isClusterMessage(message)) return;
      try {
        this.receive(worker, message);
      } catch (error) {
        // A message of another shape (from a worker of another version of the package, during a
        // rolling upgrade) is dropped: it must not crash the service's primary.
        diag.error(
          `scanopy-metrics: cluster: a message from worker ${worker.id} could not be read`,
          error,
        );
      }
    });
  }

  private receive(worker: Worker, message: ClusterMessage): void {
    switch (message.type) {
      case 'hello':
        // A hello read after the worker's exit (the channel is read after 'exit' is emitted):
        // a member made of it would never leave, and every gather would wait for it.
        if (worker.isDead() || !worker.isConnected()) return;
        this.members.set(worker.id, { worker, lastRound: 0 });
        send(worker, { cmd: CMD, type: 'welcome' });
        break;
      case 'snapshot': {
        const member = this.members.get(worker.id);
        if (member === undefined) return;
        this.takePart(member, message);
        // The next part, asked for once this one is in (one part in flight at a time; a part
        // that cannot be read asks for none), in the next turn: asked for in this one, it could
        // arrive while the channel's reads of this turn go on, and be decoded in it too, and so
        // on for the whole snapshot.
        if (!message.done) {
          const round = message.round;
          setImmediate(() => {
            if (this.members.has(worker.id)) send(worker, { cmd: CMD, type: 'more', round });
          });
        }
        break;
      }
      case 'auth-failure': {
        if (typeof message.client !== 'string') return;
        for (const member of this.members.values()) {
          if (member.worker !== worker) {
            send(member.worker, { cmd: CMD, type: 'auth-failure', client: message.client });
          }
        }
        break;
      }
      case 'gather': {
        const id = message.id;
        this.waiting.set(worker, id);
        this.gather()
          .then((total) => {
            if (this.waiting.get(worker) === id) this.waiting.delete(worker);
            const member = this.members.get(worker.id);
            if (member === undefined) return;
            // A newer gather of the same worker replaces one it gave up on.
            const parts = total.parts();
            const outgoing = { id, parts, ahead: parts.next().value as Snapshot };
            member.outgoing = outgoing;
            // A few parts ahead, one a turn (each is encoded in the turn it is sent), then one
            // for each that the worker has taken in.
            let ahead = 0;
            const sendAhead = (): void => {
              if (member.outgoing !== outgoing || ahead++ >= TOTAL_PARTS_IN_FLIGHT) return;
              this.sendTotalPart(member);
              setImmediate(sendAhead);
            };
            sendAhead();
          })
          .catch((error: unknown) => diag.error('scanopy-metrics: cluster gather failed', error));
        break;
      }
      case 'more-total': {
        const member = this.members.get(worker.id);
        if (member?.outgoing?.id === message.id) this.sendTotalPart(member);
        break;
      }
    }
  }

  /** Takes in a part of `member`'s snapshot; the last one makes it the member's last snapshot. */
  private takePart(member: Member, message: Extract<ClusterMessage, { type: 'snapshot' }>): void {
    // A late answer to an older round is still newer than what we had.
    if (message.round < member.lastRound) return;
    if (member.incoming?.round !== message.round) {
      member.incoming = { round: message.round, metrics: [] };
    }
    for (const part of message.snapshot.metrics) {
      this.keys.intern(part.keys);
      member.incoming.metrics.push(keptPart(part));
    }
    if (message.round === this.round) this.progress?.();
    if (!message.done) return;
    member.last = { metrics: member.incoming.metrics };
    this.measure(member.last);
    member.lastRound = message.round;
    member.incoming = undefined;
    if (message.round === this.round) member.answered?.();
  }

  /** Sends the next part of the total `member` is receiving; the last one ends it. */
  private sendTotalPart(member: Member): void {
    const out = member.outgoing;
    if (out === undefined) return;
    const following = out.parts.next();
    const done = following.done === true;
    send(member.worker, { cmd: CMD, type: 'total', id: out.id, snapshot: out.ahead, done });
    if (done) member.outgoing = undefined;
    else out.ahead = following.value;
  }

  private measure(snapshot: KeptSnapshot): void {
    const counts = new Map<string, number>();
    for (const m of snapshot.metrics) counts.set(m.name, (counts.get(m.name) ?? 0) + m.keys.length);
    for (const [name, n] of counts) {
      if (n > (this.widest.get(name) ?? 0)) this.widest.set(name, n);
    }
  }

  /**
   * Series kept from exited workers per metric: twice the most one worker held (workers of one
   * service mostly share their label sets), and never fewer than the default cardinality limit.
   */
  private retainedLimit(name: string): number {
    return Math.max(DEFAULT_CARDINALITY_LIMIT, 2 * (this.widest.get(name) ?? 0));
  }

  private retire(worker: Worker): void {
    this.waiting.delete(worker);
    const member = this.members.get(worker.id);
    if (member === undefined) return;
    this.members.delete(worker.id);
    member.answered?.();
    if (member.last !== undefined) this.retiring.push(member.last);
    this.exited++;
  }

  /** The sum over the live workers and the exited ones; one at a time, shared. */
  gather(): Promise<Totals> {
    this.gathering ??= this.collect().finally(() => (this.gathering = undefined));
    return this.gathering;
  }

  private async collect(): Promise<Totals> {
    const round = ++this.round;
    this.keys.nextGeneration();
    const members = [...this.members.values()];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.timeoutMs);
      timer.unref();
    });
    // The wait starts again at each part that comes in: a worker still sending its snapshot on a
    // loaded machine is slow, not gone, and counting it with its last snapshot (none at the first
    // scrape) would serve a total short of its latest increments. Only `timeoutMs` without any
    // part makes the missing workers late.
    this.progress = () => {
      timer?.refresh();
      this.tellProgress();
    };
    const asking = this.askInTurn(members, round);
    await Promise.race([asking.all, timeout]);
    this.progress = undefined;
    clearTimeout(timer);
    asking.stop();

    // The cut: what this total is made of, taken at once. A worker that exits from now on is
    // counted here with its last snapshot, and in `retired` from the next gather on.
    const retiring = this.retiring.splice(0);
    const live: KeptSnapshot[] = [];
    let answered = 0;
    let late = 0;
    for (const member of members) {
      member.answered = undefined;
      if (!this.members.has(member.worker.id)) continue; // exited meanwhile: in `retiring`
      if (member.lastRound === round) answered++;
      else late++;
      if (member.last !== undefined) live.push(member.last);
    }
    this.lateSnapshots += late;

    // The last part of a snapshot was decoded in this turn: the sums start in the next one.
    await yieldTurn();
    const slicer = new Slicer();
    for (const snapshot of retiring) await this.retired.addSliced(snapshot, slicer, true);
    const totals = new Totals();
    for (const part of this.retired.parts()) await totals.addSliced(part, slicer);
    for (const snapshot of live) await totals.addSliced(snapshot, slicer);
    const self = this.selfMetrics(answered, late);
    slicer.note();
    // What the kept total met when it folded exited workers counts as well as this gather's.
    const mismatches: Mismatches = {
      rebucketed: new Set([...this.retired.mismatches.rebucketed, ...totals.mismatches.rebucketed]),
      unmerged: new Map(this.retired.mismatches.unmerged),
    };
    for (const [name, n] of totals.mismatches.unmerged) {
      mismatches.unmerged.set(name, (mismatches.unmerged.get(name) ?? 0) + n);
    }
    this.tell(mismatches);
    totals.add({ metrics: [...self, ...this.mismatchMetrics(mismatches)] });
    this.served = totals;
    return totals;
  }

  /**
   * Tells the workers waiting for the total that the gather is under way, at most twice a
   * timeout: their wait then starts again, as the gather's own does at each part that comes in,
   * so that a gather that goes on for longer than a worker waits (many workers or series on a
   * loaded machine) still ends in a total rather than a failed scrape.
   */
  private tellProgress(): void {
    const now = performance.now();
    if (now - this.toldProgressAt < this.options.timeoutMs / 2) return;
    this.toldProgressAt = now;
    for (const [worker, id] of this.waiting) send(worker, { cmd: CMD, type: 'gathering', id });
  }

  /**
   * Asks `members` for their snapshot for `round`, SNAPSHOTS_AT_ONCE at a time: a worker reading
   * its snapshot and the primary decoding it keep two processes busy, where all the workers at
   * once would keep them all busy on a machine of fewer cores, each then waiting for a core in
   * the middle of its turns. A worker that has not answered within its share of the timeout no
   * longer holds up the next one (its answer still counts until the timeout). `all` resolves
   * once every member has answered; `stop` asks no more of them.
   */
  private askInTurn(members: Member[], round: number): { all: Promise<void>; stop: () => void } {
    const stepMs = this.options.timeoutMs / Math.max(1, members.length);
    const steps = new Set<NodeJS.Timeout>();
    let stopped = false;
    let next = 0;
    let busy = 0;
    let unanswered = members.length;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    const ask = (): void => {
      while (!stopped && busy < SNAPSHOTS_AT_ONCE && next < members.length) {
        const member = members[next++];
        if (!this.members.has(member.worker.id) || !member.worker.isConnected()) {
          // Exited or shutting down before its turn: nothing to wait for.
          if (--unanswered === 0) done();
          continue;
        }
        busy++;
        let holding = true;
        const release = (): void => {
          if (!holding) return;
          holding = false;
          clearTimeout(step);
          steps.delete(step);
          busy--;
          ask();
        };
        const step = setTimeout(release, stepMs);
        step.unref();
        steps.add(step);
        member.answered = () => {
          member.answered = undefined;
          release();
          if (--unanswered === 0) done();
        };
        send(member.worker, { cmd: CMD, type: 'collect', round });
      }
    };
    if (unanswered === 0) done();
    ask();
    return {
      all,
      stop: () => {
        stopped = true;
        for (const step of steps) clearTimeout(step);
        steps.clear();
      },
    };
  }

  /** One line on stderr per metric the first time its workers' data do not add up as such. */
  private tell({ rebucketed, unmerged }: Mismatches): void {
    const warn = this.options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    for (const name of rebucketed) {
      if (this.told.has(name)) continue;
      this.told.add(name);
      warn(
        `scanopy-metrics: cluster: the workers' histogram ${name} has different buckets (a worker started with another configuration); the total is served on the bounds they all have (${CLUSTER_REBUCKETED})`,
      );
    }
    for (const name of unmerged.keys()) {
      if (this.told.has(name)) continue;
      this.told.add(name);
      warn(
        `scanopy-metrics: cluster: the workers' metric ${name} is not of one kind; the series of the other kind are left out of the total and counted in ${CLUSTER_UNMERGED_SERIES}`,
      );
    }
  }

  private mismatchMetrics({ rebucketed, unmerged }: Mismatches): MetricSnapshot[] {
    const metrics: MetricSnapshot[] = [];
    if (rebucketed.size > 0) {
      const names = [...rebucketed];
      metrics.push({
        name: CLUSTER_REBUCKETED,
        description:
          "Histograms whose workers' buckets differ, summed on the bounds they all have (1 per metric)",
        unit: '',
        kind: 'gauge',
        keys: names.map((metric) => labelKey({ metric })),
        values: names.map(() => 1),
      });
    }
    if (unmerged.size > 0) {
      metrics.push({
        name: CLUSTER_UNMERGED_SERIES,
        description:
          'Series left out of the last cluster total: their metric is of another kind in another worker',
        unit: '',
        kind: 'gauge',
        keys: [...unmerged.keys()].map((metric) => labelKey({ metric })),
        values: [...unmerged.values()],
      });
    }
    return metrics;
  }

  private selfMetrics(answered: number, late: number): MetricSnapshot[] {
    return [
      {
        name: CLUSTER_RETAINED_SERIES,
        description:
          'Series kept from exited workers, one per label set however many workers exited (memory held for them)',
        unit: '',
        kind: 'gauge',
        keys: [''],
        values: [this.retired.size],
      },
      {
        name: CLUSTER_WORKERS,
        description:
          'Workers in the last cluster scrape: answered, late (counted with their last snapshot), exited (last snapshot kept)',
        unit: '',
        kind: 'gauge',
        keys: ['answered', 'late', 'exited'].map((state) => labelKey({ state })),
        values: [answered, late, this.exited],
      },
      {
        name: CLUSTER_LATE_SNAPSHOTS,
        description:
          'Times a worker did not answer a cluster scrape in time and its last snapshot was used',
        unit: '',
        kind: 'counter',
        keys: [''],
        values: [this.lateSnapshots],
      },
    ];
  }
}
