// The shape of the package's resolved settings.
import type { MetricName, MetricView } from '../collection/instruments';
import type { ClusterSettings } from '../cluster/aggregation';
import type { ExportSettings } from './exporters';

/** A view from otel-config.yaml, for the SDK's own instruments (instrumentation-http). */
export interface SdkView {
  instrumentName?: string;
  /** As the file names it: `counter`, `histogram`, ... */
  instrumentType?: string;
  instrumentUnit?: string;
  meterName?: string;
  meterVersion?: string;
  name?: string;
  description?: string;
  boundaries?: number[];
  drop?: boolean;
  cardinalityLimit?: number;
  /** Attribute key patterns kept (`included`, all if absent) and then dropped (`excluded`). */
  attributeKeys?: { included?: string[]; excluded?: string[] };
}

import type { LogLevel } from '../diagnostics/diag';
export type { LogLevel };

/** Everything the preload needs, resolved from environment, file and defaults. */
export interface Settings {
  /** OTEL_SDK_DISABLED / SCANOPY_METRICS_DISABLED / `disabled`: the preload does nothing. */
  disabled: boolean;
  logLevel: LogLevel;
  /** Tokens given inline (SCANOPY_METRICS_TOKEN). */
  tokens: string[];
  /** A file holding the token(s), re-read when it changes (SCANOPY_METRICS_TOKEN_FILE). */
  tokenFile?: string;
  path: string;
  entityTypeKey: string;
  /** Failed authentications per client address and minute before 429; 0: no limit. */
  authFailuresPerMinute: number;
  /** Scrape responses in flight at once before 503; 0: no limit. */
  maxConcurrentScrapes: number;
  /** A scrape response not sent within this many milliseconds is destroyed; 0: never. */
  scrapeTimeoutMs: number;
  resourceAttributes: Record<string, string>;
  withoutScopeInfo: boolean;
  withoutTargetInfo: boolean;
  cardinalityLimit: number;
  /** The reader's limits by instrument type (`counter`, `histogram`, ...), over the default. */
  cardinalityLimitsByType: Partial<Record<string, number>>;
  views: Partial<Record<MetricName, MetricView>>;
  sdkViews: SdkView[];
  /**
   * OTEL_NODE_ENABLED_INSTRUMENTATIONS / `enabled_instrumentations`: the OTel instrumentations
   * to enable (`http`, `runtime-node`).
   */
  instrumentations: string[];
  /** SCANOPY_METRICS_DURATION_ENTITY_TYPE / `duration_entity_type`: entity_type on the duration. */
  durationEntityType: boolean;
  events: { entities: string[]; operations: string[] };
  /** New well-formed entity types / operations counted as themselves (the caps of learning). */
  maxNewEntities: number;
  maxNewOperations: number;
  /** node:cluster aggregation (SCANOPY_METRICS_CLUSTER, SCANOPY_METRICS_CLUSTER_TIMEOUT). */
  cluster: ClusterSettings;
  /** The route on a port of its own (SCANOPY_METRICS_PORT, SCANOPY_METRICS_HOST). */
  listener?: ListenerSettings;
  /** SCANOPY_METRICS_ON_SERVICE_PORT; unset: only when there is no listener of its own. */
  onServicePort?: boolean;
  /** The route (`prometheus`) and the push readers (OTEL_METRICS_EXPORTER and the file's). */
  exports: ExportSettings;
  /** The configuration file that was read, if any. */
  configFile?: string;
}

/** What one source (environment or file) says; absent keys leave the next source's value. */
export type PartialSettings = Partial<Settings>;

export interface ListenerSettings {
  port: number;
  host: string;
  /** SCANOPY_METRICS_PORT_PER_INSTANCE: add NODE_APP_INSTANCE to the port, a listener per worker. */
  perInstance: boolean;
  /** The file key the port was set by, to name in a message; unset: SCANOPY_METRICS_PORT. */
  setting?: string;
}
