// The SDK MetricProducer that hands the package's series to any OTel MetricReader.
import { hrTime } from '@opentelemetry/core';
import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Counter } from '../series/counter';
import type { Gauge } from '../series/gauge';
import type { Histogram } from '../series/histogram';

/**
 * Hands the package's own metrics to the OTel reader at collection time, as one instrumentation
 * scope. The reader merges them with whatever the SDK's instruments recorded (for example
 * instrumentation-http) and stamps the provider's resource on the result.
 */
export class ScopeProducer implements MetricProducer {
  private excluded = false;

  constructor(
    readonly scope: InstrumentationScope,
    readonly metrics: () => readonly (Counter | Gauge | Histogram)[],
    /**
     * When the package's cumulative values started (their OTel start time, OpenMetrics'
     * `_created`): the pipeline's creation, which may precede the producer's.
     */
    readonly startTime: HrTime = hrTime(),
  ) {}

  /**
   * Runs `collect` (a reader's collection) without this producer's data. The scrape writes the
   * package's own metrics straight from their series instead: copying 20,000 series into OTel
   * data points at every scrape fed the garbage collector pauses longer than the scrape itself.
   * A reader calls its producers synchronously when its collection starts, so the exclusion
   * covers exactly that call.
   */
  without<T>(collect: () => T): T {
    this.excluded = true;
    try {
      return collect();
    } finally {
      this.excluded = false;
    }
  }

  collect(): Promise<CollectionResult> {
    if (this.excluded) {
      return Promise.resolve({
        resourceMetrics: { resource: emptyResource(), scopeMetrics: [] },
        errors: [],
      });
    }
    const endTime = hrTime();
    const metrics: MetricData[] = this.metrics().map((m) => m.collect(this.startTime, endTime));
    return Promise.resolve({
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [{ scope: this.scope, metrics }],
      },
      errors: [],
    });
  }
}
