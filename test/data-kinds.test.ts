// The package carries the SDK's enum values as constants (so that neither start-up nor a scrape
// need load the SDK): they must be the SDK's own values, on whichever OpenTelemetry line is
// installed. Likewise the resource a scrape shows without the SDK must be the SDK's.
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
} from '@opentelemetry/sdk-metrics';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';

import { expect } from './helpers/chai';
import { CUMULATIVE, GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../src/series/data-kinds';
import { AGGREGATION_TYPES, INSTRUMENT_TYPES } from '../src/config/sdk-views';
import { resourceAttributes } from '../src/collection/resource';

describe('series data kinds', () => {
  it("are the installed SDK's DataPointType and AggregationTemporality values", () => {
    expect([HISTOGRAM_POINTS, GAUGE_POINTS, SUM_POINTS, CUMULATIVE]).to.deep.equal([
      DataPointType.HISTOGRAM,
      DataPointType.GAUGE,
      DataPointType.SUM,
      AggregationTemporality.CUMULATIVE,
    ]);
  });

  it("the views' instrument and aggregation types are the installed SDK's", () => {
    expect([...INSTRUMENT_TYPES].sort()).to.deep.equal(Object.values(InstrumentType).sort());
    expect(AGGREGATION_TYPES).to.deep.equal({
      DROP: AggregationType.DROP,
      EXPLICIT_BUCKET_HISTOGRAM: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
    });
  });
});

describe("target_info's attributes without the SDK", () => {
  const cases: Record<string, Record<string, string>> = {
    'nothing configured': {},
    'attributes of their own': { 'deployment.environment': 'prod', 'host.name': 'scanner-1' },
    'a service name and an SDK attribute overridden': {
      'service.name': 'scanopy',
      'telemetry.sdk.language': 'custom',
    },
  };
  for (const [name, attributes] of Object.entries(cases)) {
    it(`are the SDK resource's, in its order (${name})`, () => {
      const sdk = defaultResource().merge(resourceFromAttributes(attributes)).attributes;
      const ours = resourceAttributes(attributes);
      // The order is what target_info's labels are written in.
      expect(Object.entries(ours ?? {})).to.deep.equal(Object.entries(sdk));
    });
  }
});
