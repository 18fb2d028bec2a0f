// OTel periodic readers for the configured push exporters (OTLP, console).
import {
  InstrumentType,
  PeriodicExportingMetricReader,
  type MetricProducer,
  type MetricReader,
  type PeriodicExportingMetricReaderOptions,
} from '@opentelemetry/sdk-metrics';
import { DeltaProducer } from './delta';
import { GuardedExporter, prefersDelta } from './exporter';
import type { PushReaderSettings } from './settings';

export interface PushReadersOptions {
  /** A producer of the package's own metrics (cumulative), one per reader. */
  producer: () => MetricProducer;
  /** The pull reader's limits, for the SDK's own instruments. */
  cardinalityLimits?: PeriodicExportingMetricReaderOptions['cardinalityLimits'];
}

/**
 * One OTel PeriodicExportingMetricReader per push setting (OTEL_METRICS_EXPORTER=otlp, console,
 * or a `periodic` reader of the file). Its timer is unref'd: it keeps no process alive.
 */
export function createPushReaders(
  settings: readonly PushReaderSettings[],
  options: PushReadersOptions,
): MetricReader[] {
  return settings.map((reader) => {
    const own = options.producer();
    const delta = prefersDelta(reader, InstrumentType.COUNTER);
    return new PeriodicExportingMetricReader({
      exporter: new GuardedExporter(reader),
      exportIntervalMillis: reader.intervalMs,
      // The SDK refuses a timeout longer than the interval.
      exportTimeoutMillis: Math.min(reader.timeoutMs, reader.intervalMs),
      metricProducers: [delta ? new DeltaProducer(own) : own],
      cardinalityLimits: options.cardinalityLimits,
    });
  });
}
