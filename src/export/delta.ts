// Delta temporality for the package's own (cumulative) metrics, for push exporters that prefer it.
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';

interface Previous {
  value: number;
  counts?: number[];
  sum?: number;
  count?: number;
}

/**
 * Turns the cumulative data of a producer (the package's own metrics, which keep running totals)
 * into deltas since the previous collection, for an exporter that prefers delta temporality.
 * Counters and histograms become deltas; gauges and up-down sums stay cumulative, as OTel's delta
 * and low-memory preferences say. One instance per reader: it remembers that reader's last
 * collection.
 */
export class DeltaProducer implements MetricProducer {
  /** Per metric name, the values last reported, by series (attributes objects live as long). */
  private readonly previous = new Map<string, WeakMap<Attributes, Previous>>();
  private readonly lastEnd = new Map<string, HrTime>();

  constructor(private readonly inner: MetricProducer) {}

  async collect(): Promise<CollectionResult> {
    const result = await this.inner.collect();
    for (const scope of result.resourceMetrics.scopeMetrics) {
      scope.metrics = scope.metrics.map((metric) => this.delta(metric));
    }
    return result;
  }

  private delta(metric: MetricData): MetricData {
    const isDeltaKind =
      metric.dataPointType === DataPointType.HISTOGRAM ||
      (metric.dataPointType === DataPointType.SUM && metric.isMonotonic);
    if (!isDeltaKind || metric.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
      return metric;
    }
    const name = metric.descriptor.name;
    let previous = this.previous.get(name);
    if (previous === undefined) this.previous.set(name, (previous = new WeakMap()));
    const start = this.lastEnd.get(name);
    const end = metric.dataPoints[0]?.endTime;
    if (end !== undefined) this.lastEnd.set(name, end);

    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      return {
        ...metric,
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPoints: metric.dataPoints.map((point) => {
          const last = previous.get(point.attributes);
          const {
            counts,
            sum = 0,
            count,
          } = {
            counts: point.value.buckets.counts,
            sum: point.value.sum,
            count: point.value.count,
          };
          previous.set(point.attributes, { value: 0, counts: [...counts], sum, count });
          return {
            ...point,
            startTime: start ?? point.startTime,
            value: {
              buckets: {
                boundaries: point.value.buckets.boundaries,
                counts: counts.map((c, i) => c - (last?.counts?.[i] ?? 0)),
              },
              sum: sum - (last?.sum ?? 0),
              count: count - (last?.count ?? 0),
              // The extremes of the interval alone are not known.
              min: undefined,
              max: undefined,
            },
          };
        }),
      };
    }
    return {
      ...metric,
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPoints: metric.dataPoints.map((point) => {
        const last = previous.get(point.attributes);
        previous.set(point.attributes, { value: point.value });
        return {
          ...point,
          startTime: start ?? point.startTime,
          value: point.value - (last?.value ?? 0),
        };
      }),
    };
  }
}
