// The OpenTelemetry SDK side of the pipeline: resource, pull reader, MeterProvider and the producer
// of the package's series. Built on first use (the first scrape, or a caller asking for the
// provider), so that a start-up loads no SDK: recording needs only the package's own series.
import type { HrTime } from '@opentelemetry/api';
import {
  MeterProvider,
  MetricReader,
  type InstrumentType,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { otelApi } from '../diagnostics/diag';
import { ScopeProducer } from './producer';
import type { Counter } from '../series/counter';
import type { Gauge } from '../series/gauge';
import type { Histogram } from '../series/histogram';
import { DEFAULT_CARDINALITY_LIMIT } from '../series/series-map';
import { PACKAGE_NAME, VERSION } from '../version';
import { createPushReaders } from '../export/readers';
import type { PushReaderSettings } from '../export/settings';

export interface SdkOptions {
  /** Resource attributes, shown on `target_info` (`service.name`, ...). */
  resourceAttributes?: Record<string, string>;
  /** Views for instruments recorded through the SDK (instrumentation-http). */
  sdkViews?: ViewOptions[];
  /** Cardinality limits of SDK instruments by type, over `cardinalityLimit`. */
  cardinalityLimitsByType?: Partial<Record<InstrumentType, number>>;
  /** Most series per metric. */
  cardinalityLimit?: number;
  /** Periodic push readers (OTLP, console), besides the route's pull reader. */
  push?: readonly PushReaderSettings[];
}

export interface Sdk {
  resource: Resource;
  producer: ScopeProducer;
  reader: MetricReader;
  meterProvider: MeterProvider;
  /** The push readers (OTEL_METRICS_EXPORTER=otlp, console), if any. */
  pushReaders: readonly MetricReader[];
}

/** The reader option's names of the instrument types. */
const LIMIT_NAMES: Record<string, string | undefined> = {
  COUNTER: 'counter',
  GAUGE: 'gauge',
  HISTOGRAM: 'histogram',
  UP_DOWN_COUNTER: 'upDownCounter',
  OBSERVABLE_COUNTER: 'observableCounter',
  OBSERVABLE_GAUGE: 'observableGauge',
  OBSERVABLE_UP_DOWN_COUNTER: 'observableUpDownCounter',
};

/** A reader that only answers `collect()`: the package serves the text itself, on the service's port. */
class PullMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A MeterProvider that is never made global (the host service may run its own SDK), one pull
 * reader, and the package's metrics fed to the reader as a MetricProducer since `startTime`.
 */
export function buildSdk(
  options: SdkOptions,
  startTime: HrTime,
  metrics: () => readonly (Counter | Gauge | Histogram)[],
): Sdk {
  // The SDK logs through the API's diag: the preload's logger is registered before it runs.
  otelApi();
  const resource = defaultResource().merge(
    resourceFromAttributes(options.resourceAttributes ?? {}),
  );
  const producer = new ScopeProducer({ name: PACKAGE_NAME, version: VERSION }, metrics, startTime);
  const reader = new PullMetricReader({
    metricProducers: [producer],
    cardinalitySelector: (type) =>
      options.cardinalityLimitsByType?.[type] ??
      options.cardinalityLimit ??
      DEFAULT_CARDINALITY_LIMIT,
  });
  const scope = { name: PACKAGE_NAME, version: VERSION };
  const pushReaders = createPushReaders(options.push ?? [], {
    producer: () => new ScopeProducer(scope, metrics, startTime),
    cardinalityLimits: {
      default: options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT,
      ...Object.fromEntries(
        Object.entries(options.cardinalityLimitsByType ?? {}).flatMap(([type, limit]) => {
          const name = LIMIT_NAMES[type];
          return name === undefined ? [] : [[name, limit]];
        }),
      ),
    },
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [reader, ...pushReaders],
    views: options.sdkViews,
  });
  return { resource, producer, reader, meterProvider, pushReaders };
}
