// scanopy_events_total from the `scanopy:events` diagnostics channel: a service publishes events
// (one, or an array) without depending on this package.
import diagnosticsChannel from 'node:diagnostics_channel';

import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { EventBus } from '../reference-service/bus';
import { expect } from './helpers/chai';
import { scrapedEvents } from './helpers/exposition';

const channel = diagnosticsChannel.channel('scanopy:events');

describe('observer on the scanopy:events diagnostics channel', () => {
  let metrics: ScanopyMetrics;
  let unsubscribe: () => void;

  beforeEach(() => {
    metrics = createMetrics({ token: 't' });
    unsubscribe = metrics.subscribeToEventsChannel();
  });
  afterEach(async () => {
    unsubscribe();
    await metrics.shutdown();
  });

  it('counts each published event', async () => {
    channel.publish({ kind: 'entity', entityType: 'Host', operation: 'created' });
    channel.publish({ kind: 'entity', entityType: 'Host', operation: 'created' });
    channel.publish({ kind: 'auth', operation: 'logged_out' });
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Host', 'created', 2],
      ['auth', 'logged_out', 1],
    ]);
  });

  it('counts each event of a published array', async () => {
    channel.publish([
      { kind: 'entity', entityType: 'Service', operation: 'deleted' },
      { kind: 'entity', entityType: 'Service', operation: 'deleted' },
      { kind: 'telemetry', operation: 'plan_selected' },
    ]);
    channel.publish([]);
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Service', 'deleted', 2],
      ['telemetry', 'plan_selected', 1],
    ]);
  });

  it('counts malformed messages as unknown/unknown without throwing', async () => {
    expect(() => channel.publish(null)).to.not.throw();
    expect(() => channel.publish('Host created')).to.not.throw();
    expect(() => channel.publish([{ kind: 'entity' }, 42])).to.not.throw();
    expect(await scrapedEvents(metrics)).to.deep.equal([['unknown', 'unknown', 4]]);
  });

  it('subscribes once however often it is asked, so no event is counted twice', async () => {
    const again = metrics.subscribeToEventsChannel();
    channel.publish({ kind: 'entity', entityType: 'Tag', operation: 'created' });
    again();
    channel.publish({ kind: 'entity', entityType: 'Tag', operation: 'created' });
    expect(await scrapedEvents(metrics)).to.deep.equal([['Tag', 'created', 1]]);
  });

  it('stops counting once unsubscribed', async () => {
    channel.publish({ kind: 'entity', entityType: 'Tag', operation: 'created' });
    unsubscribe();
    channel.publish({ kind: 'entity', entityType: 'Tag', operation: 'created' });
    channel.publish([{ kind: 'entity', entityType: 'Tag', operation: 'created' }]);
    expect(await scrapedEvents(metrics)).to.deep.equal([['Tag', 'created', 1]]);
  });

  it('keeps instances apart: each counts for itself, and unsubscribes alone', async () => {
    const other = createMetrics({ token: 't' });
    const unsubscribeOther = other.subscribeToEventsChannel();
    try {
      channel.publish({ kind: 'entity', entityType: 'Port', operation: 'created' });
      unsubscribeOther();
      channel.publish({ kind: 'entity', entityType: 'Port', operation: 'created' });
      expect(await scrapedEvents(metrics)).to.deep.equal([['Port', 'created', 2]]);
      expect(await scrapedEvents(other)).to.deep.equal([['Port', 'created', 1]]);
    } finally {
      unsubscribeOther();
      await other.shutdown();
    }
  });

  it("counts what the reference service's bus mirrors on the channel, with no bus subscriber", async () => {
    const bus = new EventBus({ logger: () => undefined });
    await bus.publish({ kind: 'entity', entityType: 'Subnet', operation: 'updated' });
    await bus.publish({ kind: 'auth', operation: 'api_key_auth_failed' });
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Subnet', 'updated', 1],
      ['auth', 'api_key_auth_failed', 1],
    ]);
  });
});
