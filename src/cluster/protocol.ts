// The messages the primary and the workers exchange over the cluster's IPC channel.
import type { Snapshot } from './snapshot';

/**
 * The `cmd` of every message the package sends over the cluster's IPC channel. Node delivers a
 * message whose `cmd` starts with `NODE_` as an `internalMessage` event, never as `message`:
 * the service's own message handlers (and Egg's or PM2's) never see the package's traffic.
 * Snapshots and totals travel in parts of at most PART_SERIES series, and the next part is sent
 * only when the receiver asks for it (`more`, `more-total`): Node decodes every message that has
 * arrived in one go, so parts sent ahead pile up in the channel and are then decoded in one long
 * stretch; one part in flight per channel keeps each stretch to a part (a millisecond or so).
 */
export const CMD = 'NODE_SCANOPY_METRICS';

/**
 * Parts of a snapshot a worker sends ahead of the primary's asking: one. The primary receives
 * from every worker at once, and Node decodes what has arrived on all their channels in one go:
 * one part per worker keeps that to as many parts as there are workers.
 */
export const SNAPSHOT_PARTS_IN_FLIGHT = 1;

/**
 * Parts of a total the primary sends ahead of the worker's asking: a total goes over one channel
 * to one worker, so a few in flight cost that worker a few parts' decoding at most, and keep the
 * channel's round trips from adding up to the scrape's time on a loaded machine.
 */
export const TOTAL_PARTS_IN_FLIGHT = 3;

export type ClusterMessage =
  /** worker → primary: a preloaded worker is there. */
  | { cmd: typeof CMD; type: 'hello' }
  /** primary → worker: the primary is preloaded too and aggregates. */
  | { cmd: typeof CMD; type: 'welcome' }
  /** primary → worker: send your snapshot for round `round`. */
  | { cmd: typeof CMD; type: 'collect'; round: number }
  /** worker → primary: a part of the snapshot asked for in round `round` (`done`: the last). */
  | { cmd: typeof CMD; type: 'snapshot'; round: number; snapshot: Snapshot; done: boolean }
  /** primary → worker: send the next part of your snapshot for round `round`. */
  | { cmd: typeof CMD; type: 'more'; round: number }
  /** worker → primary: a scrape needs the cluster's total (`id` pairs the answer). */
  | { cmd: typeof CMD; type: 'gather'; id: number }
  /** primary → worker: a part of the total asked for by `gather` `id` (`done`: the last). */
  | { cmd: typeof CMD; type: 'total'; id: number; snapshot: Snapshot; done: boolean }
  /**
   * primary → worker: the gather that total `id` waits for is under way (a snapshot's part came
   * in), so the worker's wait for the total starts again, as the primary's own wait does.
   */
  | { cmd: typeof CMD; type: 'gathering'; id: number }
  /** worker → primary: send the next part of total `id`. */
  | { cmd: typeof CMD; type: 'more-total'; id: number }
  /**
   * worker → primary: a failed authentication from `client`; primary → the other workers: the
   * same, to count against the client's limit there too.
   */
  | { cmd: typeof CMD; type: 'auth-failure'; client: string };

export function isClusterMessage(message: unknown): message is ClusterMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { cmd?: unknown }).cmd === CMD &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}
