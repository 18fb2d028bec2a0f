// What a counter and a gauge share: one number per label set, collected as an OTel sum.
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

export interface SumSeries extends Series {
  value: number;
}

/**
 * One number per label set, with bounded label sets, collected as a cumulative OTel
 * `SumMetricData`: monotonic for a counter, not for a gauge (what an SDK `UpDownCounter` gives).
 */
export class Sum {
  private readonly series: SeriesMap<SumSeries>;

  constructor(
    readonly definition: MetricDefinition,
    private readonly monotonic: boolean,
  ) {
    this.series = new SeriesMap(definition, (attributes: Attributes) => ({ attributes, value: 0 }));
  }

  /** `values` are the label values in `definition.labelNames` order. */
  add(values: readonly string[], delta = 1): void {
    this.series.get(values).value += delta;
  }

  /**
   * The series of a label set, to be changed directly (`series.value += n`) on a hot path. An
   * overflow series (`isOverflow`) is not to be kept in a cache: `seriesFor` again for each
   * recording, so that every one is counted as overflowed (a gauge comes down on the series it
   * went up on, overflow series included).
   */
  seriesFor(values: readonly string[]): SumSeries {
    return this.series.get(values);
  }

  /** `seriesFor` with up to four label values passed one by one: nothing allocated. */
  seriesOf(v0?: string, v1?: string, v2?: string, v3?: string): SumSeries {
    return this.series.getOf(v0, v1, v2, v3);
  }

  /** Whether `series` is the overflow series (which a cache must not keep: see SeriesMap). */
  isOverflow(series: SumSeries): boolean {
    return this.series.isOverflow(series);
  }

  /** What the exposition's header needs: name, description, type. */
  header(): MetricHeader {
    return {
      descriptor: descriptorOf(this.definition),
      dataPointType: SUM_POINTS,
      isMonotonic: this.monotonic,
    };
  }

  /** The live series, for the serializer: read each one at once, values move on. */
  liveSeries(): Iterable<SumSeries> {
    return this.series;
  }

  /** How many series `liveSeries()` holds (what the serializer sizes a first scrape by). */
  seriesCount(): number {
    return this.series.size;
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
      isMonotonic: this.monotonic,
      dataPoints,
    };
  }
}
