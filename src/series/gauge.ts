// A gauge that goes up and down (requests in flight): one value per label set.
import { Sum, type MetricDefinition, type SumSeries } from './sum';

export type GaugeSeries = SumSeries;

/**
 * A value that goes up and down, with bounded label sets. It is collected as a non-monotonic
 * cumulative OTel sum, what an SDK `UpDownCounter` gives (OTel's `http.server.active_requests` is
 * one): summed over instances it stays meaningful, and the text format calls it a gauge.
 */
export class Gauge extends Sum {
  constructor(definition: MetricDefinition) {
    super(definition, false);
  }
}
