// The package's public API.
export * from './types';
export { createMetrics, ScanopyMetrics, type ScanopyMetricsOptions } from './scanopy-metrics';
export {
  httpMetrics,
  type HttpMetricsOptions,
  DEFAULT_ENTITY_TYPE_KEY,
} from './recorder/middleware';
export {
  metricsRoute,
  type MetricsRouteOptions,
  DEFAULT_METRICS_PATH,
  CONTENT_TYPE,
} from './route/route';
export { MetricsObserver } from './events/observer';
export { TokenSet, bearerCredential } from './auth/bearer';
export { MetricsPipeline, type PipelineOptions, type Exposition } from './collection/pipeline';
export {
  Instruments,
  type InstrumentsOptions,
  type MetricView,
  type MetricName,
  HTTP_REQUESTS_TOTAL,
  HTTP_REQUEST_DURATION_SECONDS,
  SCANOPY_EVENTS_TOTAL,
} from './collection/instruments';
export { DEFAULT_BUCKETS } from './series/histogram';
export { VERSION } from './version';
export { preloaded, startPreload, type Preload } from './preload/preload';
export { loadSettings, DEFAULTS as DEFAULT_SETTINGS } from './config/load';
export type { Settings } from './config/types';
export { KoaMetricsInstrumentation } from './preload/instrumentation';
