// A counter: monotonic sums, one per label set.
import type { Attributes, HrTime, ValueType } from '@opentelemetry/api';
import type { MetricDescriptor, SumMetricData } from '@opentelemetry/sdk-metrics';
import { CUMULATIVE, SUM_POINTS } from './data-kinds';
import type { MetricHeader } from './metric-header';
import { SeriesMap, type Series, type SeriesOptions } from './series-map';

export interface MetricDefinition extends SeriesOptions {
  name: string;
  description: string;
  unit?: string;
}

/** The API's `ValueType.DOUBLE`, without loading @opentelemetry/api at start-up for it. */
const DOUBLE = 1 as ValueType.DOUBLE;

/** The OTel descriptor of a metric, as its collected data carries it. */
export function descriptorOf(definition: MetricDefinition): MetricDescriptor {
  return {
    name: definition.name,
    description: definition.description,
    unit: definition.unit ?? '',
    valueType: DOUBLE,
  };
}

export interface CounterSeries extends Series {
  value: number;
}

/** A monotonic sum with bounded label sets, collected as OTel `SumMetricData`. */
export class Counter {
  private readonly series: SeriesMap<CounterSeries>;

  constructor(readonly definition: MetricDefinition) {
    this.series = new SeriesMap(definition, (attributes: Attributes) => ({ attributes, value: 0 }));
  }

  /** `values` are the label values in `definition.labelNames` order. */
  add(values: readonly string[], delta = 1): void {
    this.series.get(values).value += delta;
  }

  /**
   * The series of a label set, to be added to directly (`series.value += n`) on a hot path. An
   * overflow series (`isOverflow`) is not to be kept: `seriesFor` again for each recording, so
   * that every one is counted as overflowed.
   */
  seriesFor(values: readonly string[]): CounterSeries {
    return this.series.get(values);
  }

  /** `seriesFor` with up to four label values passed one by one: nothing allocated. */
  seriesOf(v0?: string, v1?: string, v2?: string, v3?: string): CounterSeries {
    return this.series.getOf(v0, v1, v2, v3);
  }

  isOverflow(series: CounterSeries): boolean {
    return this.series.isOverflow(series);
  }

  /** What the exposition's header needs: name, description, type. */
  header(): MetricHeader {
    return {
      descriptor: descriptorOf(this.definition),
      dataPointType: SUM_POINTS,
      isMonotonic: true,
    };
  }

  /** The live series, for the serializer: read each one at once, values move on. */
  liveSeries(): Iterable<CounterSeries> {
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
      isMonotonic: true,
      dataPoints,
    };
  }
}
