// The views of otel-config.yaml: applied to the package's own metrics, and kept, all of them, for
// the instruments recorded through the SDK (instrumentation-http).
import {
  METRIC_LABELS,
  METRIC_INSTRUMENTS,
  METRIC_NAMES,
  type MetricName,
  type MetricView,
} from '../collection/instruments';
import { PACKAGE_NAME } from '../version';
import type { SdkView } from './types';
import { matchesGlob } from './values';

export interface RawView {
  selector: {
    instrument_name?: string;
    instrument_type?: string;
    unit?: string;
    meter_name?: string;
    meter_version?: string;
  };
  stream: {
    name?: string;
    description?: string;
    aggregation?: Record<string, { boundaries?: number[] } | null>;
    aggregation_cardinality_limit?: number;
    attribute_keys?: { included?: string[]; excluded?: string[] };
  };
}

function matchesOwnMetric(selector: RawView['selector'], metric: MetricName): boolean {
  const { type, unit } = METRIC_INSTRUMENTS[metric];
  return (
    (selector.instrument_name === undefined || matchesGlob(selector.instrument_name, metric)) &&
    (selector.instrument_type === undefined || selector.instrument_type === type) &&
    (selector.unit === undefined || selector.unit === unit) &&
    (selector.meter_name === undefined || matchesGlob(selector.meter_name, PACKAGE_NAME))
  );
}

/** Applies the views to the package's own metrics, and keeps them all for the SDK's instruments. */
export function readViews(
  views: RawView[],
  problems: string[],
): { own: Partial<Record<MetricName, MetricView>>; sdk: SdkView[] } {
  const own: Partial<Record<MetricName, MetricView>> = {};
  const sdk: SdkView[] = [];
  views.forEach((view, i) => {
    const at = `meter_provider.views[${i}]`;
    const { selector, stream } = view;
    const aggregation = stream.aggregation ?? {};
    const boundaries = aggregation.explicit_bucket_histogram?.boundaries;
    if (boundaries && boundaries.some((b, j) => j > 0 && b <= boundaries[j - 1])) {
      problems.push(
        `${at}.stream.aggregation.explicit_bucket_histogram.boundaries: expected strictly increasing numbers, got [${boundaries.join(', ')}]`,
      );
      return;
    }
    const keys = stream.attribute_keys;
    const keep = (labels: readonly string[]): string[] | undefined =>
      keys === undefined
        ? undefined
        : labels.filter(
            (l) =>
              (keys.included === undefined || keys.included.some((p) => matchesGlob(p, l))) &&
              !(keys.excluded ?? []).some((p) => matchesGlob(p, l)),
          );
    for (const metric of METRIC_NAMES) {
      if (!matchesOwnMetric(selector, metric)) continue;
      for (const unsupported of ['name', 'description'] as const) {
        if (stream[unsupported] !== undefined) {
          problems.push(`${at}.stream.${unsupported}: ${metric} keeps its own ${unsupported}`);
        }
      }
      const kinds = Object.keys(aggregation);
      const allowed =
        METRIC_INSTRUMENTS[metric].type === 'histogram' ? 'explicit_bucket_histogram' : 'sum';
      const wrong = kinds.find((k) => k !== 'default' && k !== allowed);
      if (wrong) {
        problems.push(`${at}.stream.aggregation.${wrong}: ${metric} takes only ${allowed}`);
      }
      own[metric] = {
        ...own[metric],
        ...(boundaries && { boundaries }),
        ...(stream.aggregation_cardinality_limit && {
          cardinalityLimit: stream.aggregation_cardinality_limit,
        }),
        ...(keys && { attributeKeys: keep(METRIC_LABELS[metric]) }),
      };
    }
    sdk.push({
      instrumentName: selector.instrument_name,
      instrumentType: selector.instrument_type,
      instrumentUnit: selector.unit,
      meterName: selector.meter_name,
      meterVersion: selector.meter_version,
      name: stream.name,
      description: stream.description,
      boundaries,
      drop: 'drop' in aggregation,
      cardinalityLimit: stream.aggregation_cardinality_limit,
      attributeKeys: keys,
    });
  });
  return { own, sdk };
}
