// A gauge that goes up and down (requests in flight): one value per label set.
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { SumMetricData } from '@opentelemetry/sdk-metrics';
import { descriptorOf, type MetricDefinition } from './counter';
import { CUMULATIVE, SUM_POINTS } from './data-kinds';
import type { MetricHeader } from './metric-header';
import { SeriesMap, type Series } from './series-map';

export interface GaugeSeries extends Series {
  value: number;
}

/**
 * A value that goes up and down, with bounded label sets. It is collected as a non-monotonic
 * cumulative OTel sum, what an SDK `UpDownCounter` gives (OTel's `http.server.active_requests` is
 * one): summed over instances it stays meaningful, and the text format calls it a gauge.
 */
export class Gauge {
  private readonly series: SeriesMap<GaugeSeries>;

  constructor(readonly definition: MetricDefinition) {
    this.series = new SeriesMap(definition, (attributes: Attributes) => ({ attributes, value: 0 }));
  }

  /** `values` are the label values in `definition.labelNames` order. */
  add(values: readonly string[], delta: number): void {
    this.series.get(values).value += delta;
  }

  /**
   * The series of a label set, to be changed directly (`series.value++`, then `--`) on a hot
   * path: whoever went up on a series comes down on the same one, overflow series included.
   */
  seriesFor(values: readonly string[]): GaugeSeries {
    return this.series.get(values);
  }

  /** `seriesFor` with up to four label values passed one by one: nothing allocated. */
  seriesOf(v0?: string, v1?: string, v2?: string, v3?: string): GaugeSeries {
    return this.series.getOf(v0, v1, v2, v3);
  }

  /** Whether `series` is the overflow series (which a cache must not keep: see SeriesMap). */
  isOverflow(series: GaugeSeries): boolean {
    return this.series.isOverflow(series);
  }

  /** What the exposition's header needs: name, description, type. */
  header(): MetricHeader {
    return {
      descriptor: descriptorOf(this.definition),
      dataPointType: SUM_POINTS,
      isMonotonic: false,
    };
  }

  /** The live series, for the serializer: read each one at once, values move on. */
  liveSeries(): Iterable<GaugeSeries> {
    return this.series;
  }

  collect(startTime: HrTime, endTime: HrTime): SumMetricData {
    const dataPoints = [];
    for (const s of this.series) {
      dataPoints.push({ attributes: s.attributes, startTime, endTime, value: s.value });
    }
    return {
      descriptor: descriptorOf(this.definition),
      aggregationTemporality: CUMULATIVE,
      dataPointType: SUM_POINTS,
      isMonotonic: false,
      dataPoints,
    };
  }
}
