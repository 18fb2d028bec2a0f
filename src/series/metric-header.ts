// What an exposition's header needs of a metric (shared by the series and the serializer).
import type { MetricData } from '@opentelemetry/sdk-metrics';

export type MetricHeader = Pick<MetricData, 'descriptor' | 'dataPointType'> & {
  isMonotonic?: boolean;
};
