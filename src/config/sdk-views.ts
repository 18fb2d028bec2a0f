// The configured views as OTel SDK views, for instruments recorded through the SDK.
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationType,
  InstrumentType,
  type IAttributesProcessor,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import type { SdkView } from './types';
import { matchesGlob } from './values';

/** The file's instrument type names (`up_down_counter`) are the SDK's enum values, lower-cased. */
export function instrumentType(name: string): InstrumentType | undefined {
  return Object.values(InstrumentType).find((t) => t.toLowerCase() === name);
}

/** Keeps the attribute keys matching `included` (all if absent), then drops `excluded` ones. */
function attributeKeysProcessor(keys: {
  included?: string[];
  excluded?: string[];
}): IAttributesProcessor {
  const keep = (key: string): boolean =>
    (keys.included === undefined || keys.included.some((p) => matchesGlob(p, key))) &&
    !(keys.excluded ?? []).some((p) => matchesGlob(p, key));
  return {
    process(incoming: Attributes): Attributes {
      const kept: Attributes = {};
      for (const [key, value] of Object.entries(incoming)) if (keep(key)) kept[key] = value;
      return kept;
    },
  };
}

/** A view of otel-config.yaml as the SDK takes it, for instruments recorded through the SDK. */
export function toViewOptions(view: SdkView): ViewOptions {
  return {
    instrumentName: view.instrumentName,
    instrumentType: view.instrumentType ? instrumentType(view.instrumentType) : undefined,
    instrumentUnit: view.instrumentUnit,
    meterName: view.meterName,
    meterVersion: view.meterVersion,
    name: view.name,
    description: view.description,
    aggregationCardinalityLimit: view.cardinalityLimit,
    ...(view.attributeKeys && {
      attributesProcessors: [attributeKeysProcessor(view.attributeKeys)],
    }),
    ...(view.drop
      ? { aggregation: { type: AggregationType.DROP } }
      : view.boundaries && {
          aggregation: {
            type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
            options: { boundaries: view.boundaries },
          },
        }),
  };
}
