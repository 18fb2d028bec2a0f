import { hrTime } from '@opentelemetry/core';
import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Counter } from './counter';
import type { Histogram } from './histogram';

/**
 * Hands the package's own metrics to the OTel reader at collection time, as one instrumentation
 * scope. The reader merges them with whatever the SDK's instruments recorded (for example
 * instrumentation-http) and stamps the provider's resource on the result.
 */
export class ScopeProducer implements MetricProducer {
  private readonly startTime: HrTime = hrTime();

  constructor(
    private readonly scope: InstrumentationScope,
    private readonly metrics: () => readonly (Counter | Histogram)[],
  ) {}

  collect(): Promise<CollectionResult> {
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
