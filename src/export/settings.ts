// The settings of one push reader and the OTel defaults.
/** How pushed metrics are exported: the settings of one periodic reader. */

export type OtlpProtocol = 'http/protobuf' | 'http/json';
/** OTel's temporality preferences (`lowmemory` in the environment, `low_memory` in the file). */
export type TemporalityPreference = 'cumulative' | 'delta' | 'low_memory';
export type Compression = 'gzip' | 'none';

export interface OtlpSettings {
  /** The full URL the metrics are POSTed to (`.../v1/metrics`). */
  endpoint: string;
  protocol: OtlpProtocol;
  /** Request headers (an API key, often): never logged. */
  headers: Record<string, string>;
  /** How long one export request may take. */
  timeoutMs: number;
  compression: Compression;
  temporality: TemporalityPreference;
}

export interface PushReaderSettings {
  exporter: 'otlp' | 'console';
  /** Time between two exports (OTEL_METRIC_EXPORT_INTERVAL). */
  intervalMs: number;
  /** How long one collection and export may take (OTEL_METRIC_EXPORT_TIMEOUT). */
  timeoutMs: number;
  /** For `otlp`. */
  otlp?: OtlpSettings;
}

export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318/v1/metrics';
export const DEFAULT_OTLP: OtlpSettings = {
  endpoint: DEFAULT_OTLP_ENDPOINT,
  protocol: 'http/protobuf',
  headers: {},
  timeoutMs: 10_000,
  compression: 'none',
  temporality: 'cumulative',
};
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
