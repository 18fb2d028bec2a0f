// The configured views as OTel SDK views, for instruments recorded through the SDK. Only the SDK's
// types are imported: a file with views would otherwise load the whole SDK at start-up, and every
// module loaded stays in the heap that each request's garbage collection walks.
import type { Attributes } from '@opentelemetry/api';
import type {
  AggregationType,
  IAttributesProcessor,
  InstrumentType,
  ViewOptions,
} from '@opentelemetry/sdk-metrics';
import type { SdkView } from './types';
import { matchesGlob } from './values';

/** The SDK's InstrumentType values (the same in both SDK lines; a test compares them). */
export const INSTRUMENT_TYPES = [
  'COUNTER',
  'GAUGE',
  'HISTOGRAM',
  'UP_DOWN_COUNTER',
  'OBSERVABLE_COUNTER',
  'OBSERVABLE_GAUGE',
  'OBSERVABLE_UP_DOWN_COUNTER',
] as InstrumentType[];

/** The SDK's AggregationType values the views use (a test compares them). */
export const AGGREGATION_TYPES = {
  DROP: 1 as AggregationType.DROP,
  EXPLICIT_BUCKET_HISTOGRAM: 4 as AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
};

/** The file's instrument type names (`up_down_counter`) are the SDK's enum values, lower-cased. */
export function instrumentType(name: string): InstrumentType | undefined {
  return INSTRUMENT_TYPES.find((t) => t.toLowerCase() === name);
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
      ? { aggregation: { type: AGGREGATION_TYPES.DROP } }
      : view.boundaries && {
          aggregation: {
            type: AGGREGATION_TYPES.EXPLICIT_BUCKET_HISTOGRAM,
            options: { boundaries: view.boundaries },
          },
        }),
  };
}
