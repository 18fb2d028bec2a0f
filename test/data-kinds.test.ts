// The series carry the SDK's enum values as constants (so that start-up need not load the SDK):
// they must be the SDK's own values, on whichever OpenTelemetry line is installed.
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';

import { expect } from './helpers/chai';
import { CUMULATIVE, GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../src/series/data-kinds';

describe('series data kinds', () => {
  it("are the installed SDK's DataPointType and AggregationTemporality values", () => {
    expect([HISTOGRAM_POINTS, GAUGE_POINTS, SUM_POINTS, CUMULATIVE]).to.deep.equal([
      DataPointType.HISTOGRAM,
      DataPointType.GAUGE,
      DataPointType.SUM,
      AggregationTemporality.CUMULATIVE,
    ]);
  });
});
