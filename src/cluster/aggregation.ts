// Starts the process's part in node:cluster aggregation: aggregator in the primary, member in a worker.
import cluster from 'node:cluster';
import type { FailureLimiter } from '../auth/rate-limit';
import type { MetricsPipeline } from '../collection/pipeline';
import { ClusterPrimary } from './primary';
import { Slicer, yieldTurn } from './slices';
import { TotalView } from './view';
import { ClusterWorker } from './worker';

export interface ClusterSettings {
  /** SCANOPY_METRICS_CLUSTER: aggregate over node:cluster workers when the primary is preloaded. */
  enabled: boolean;
  /** SCANOPY_METRICS_CLUSTER_TIMEOUT: how long the primary waits for the workers' snapshots. */
  timeoutMs: number;
}

/** The metrics a scrape serves (the process's own, or the cluster's total). */
type Served = ReturnType<MetricsPipeline['localMetrics']>;

/** How long after joining a worker loads the scrape path (past the service's own start-up). */
const PREPARE_DELAY_MS = 1000;

/** What a worker adds to the primary's wait before it gives up on the primary. */
const WORKER_MARGIN_MS = 2000;

/**
 * Starts the process's part in cluster aggregation: in a node:cluster primary, the aggregator;
 * in a worker, the member, whose scrapes then serve the cluster's total once a preloaded primary
 * has answered. In any other process, nothing. Returns what undoes it.
 */
export function startClusterAggregation(
  pipeline: MetricsPipeline,
  settings: ClusterSettings,
  limiter?: FailureLimiter,
): () => void {
  if (!settings.enabled) return () => undefined;
  if (cluster.isPrimary) {
    return new ClusterPrimary(cluster, { timeoutMs: settings.timeoutMs }).start();
  }
  const worker = new ClusterWorker(process, () => pipeline.localMetrics(), {
    timeoutMs: settings.timeoutMs + WORKER_MARGIN_MS,
  });
  const view = new TotalView(() => pipeline.localMetrics());
  // The failed-authentication limit holds for the cluster, not per worker: each failure is
  // counted in every worker (behind one port, a client would otherwise get N times the guesses).
  if (limiter !== undefined) {
    limiter.onFailure = (client) => worker.shareAuthFailure(client);
    worker.onAuthFailure = (client) => limiter.recordFailure(client, true);
  }
  const stop = worker.start();
  // A worker of a preloaded primary serves totals: the scrape path is loaded in an idle turn
  // once it has joined, rather than at its first scrape (no other process loads it before one).
  void worker.ready.then(() => {
    if (worker.aggregated) setTimeout(() => pipeline.prepareScrape(), PREPARE_DELAY_MS).unref();
  });
  // Scrapes that arrive while a total is on its way share it, whatever format each one writes:
  // one gather, one set of metric objects, which no later total changes.
  let shared: Promise<Served> | undefined;
  const total = async (): Promise<Served> => {
    await worker.ready;
    if (!worker.aggregated) return pipeline.localMetrics();
    const snapshot = await worker.gather();
    // The total's last part was decoded in this turn: its metrics are made from the next one.
    await yieldTurn();
    return view.update(snapshot, new Slicer());
  };
  pipeline.setOwnMetricsSource(() => (shared ??= total().finally(() => (shared = undefined))));
  return () => {
    stop();
    if (limiter !== undefined) limiter.onFailure = undefined;
    pipeline.setOwnMetricsSource(undefined);
  };
}
