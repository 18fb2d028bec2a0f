// The SDK's enum values that collected series carry, as constants: importing them from
// @opentelemetry/sdk-metrics would load the whole SDK at start-up, before anything is collected.
import type { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';

/** `DataPointType.HISTOGRAM` (the same number on the 2.x and 3.x lines; a test compares them). */
export const HISTOGRAM_POINTS = 0 as DataPointType.HISTOGRAM;
/** `DataPointType.GAUGE`. */
export const GAUGE_POINTS = 2 as DataPointType.GAUGE;
/** `DataPointType.SUM`. */
export const SUM_POINTS = 3 as DataPointType.SUM;
/** `AggregationTemporality.CUMULATIVE`. */
export const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
