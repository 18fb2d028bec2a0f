// The naive OpenTelemetry route a user has today: an SDK MeterProvider, a counter and a histogram
// recorded per request with attribute objects, and PrometheusSerializer with its defaults (scope
// labels and target_info on) over a pull reader's collect().
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { PROMETHEUS_BUCKETS } from '../constants';
import { recordingMiddleware } from './middleware';
import type { Subject, SubjectFactory } from './types';

/** A reader that only answers collect(), as the exporter's own reader does on a scrape. */
export class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const createSubject: SubjectFactory = (options): Subject => {
  const limit = options.cardinalityLimit ?? 2000;
  const reader = new PullReader({ cardinalitySelector: () => limit });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('bench-otel-sdk');
  const requests = meter.createCounter('http_requests_total', {
    description: 'Total number of HTTP requests',
  });
  const duration = meter.createHistogram('http_request_duration_seconds', {
    description: 'HTTP request duration in seconds',
    unit: 's',
    advice: { explicitBucketBoundaries: [...PROMETHEUS_BUCKETS] },
  });
  const serializer = new PrometheusSerializer();
  const subject: Subject = {
    name: 'otel-sdk',
    recordRequest: (method, path, status, entityType, seconds) => {
      requests.add(1, { method, path, status, entity_type: entityType });
      duration.record(seconds, { method, path });
    },
    scrape: async () => serializer.serialize((await reader.collect()).resourceMetrics),
    middleware: () => recordingMiddleware(subject),
    shutdown: () => provider.shutdown(),
  };
  return subject;
};
