// A counter: monotonic sums, one per label set.
import { Sum, type MetricDefinition, type SumSeries } from './sum';

export type CounterSeries = SumSeries;

/** A monotonic sum with bounded label sets, collected as OTel `SumMetricData`. */
export class Counter extends Sum {
  constructor(definition: MetricDefinition) {
    super(definition, true);
  }
}
