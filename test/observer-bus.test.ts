// scanopy_events_total from a Scanopy-style event bus (the reference service's EventBus): one count
// per event, failing neighbours ignored, malformed events counted as unknown, never a throw.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { createMetrics } from 'scanopy-metrics';
import type { EventSubscriber, ScanopyEvent, ScanopyMetrics } from 'scanopy-metrics';

import { EventBus } from '../reference-service/bus';
import { expect } from './helpers/chai';
import { eventsTotal, scrapedEvents } from './helpers/exposition';

const host = (operation: string): ScanopyEvent => ({
  kind: 'entity',
  entityType: 'Host',
  operation,
  entityId: 'h1',
});

describe('observer on an event bus', () => {
  let metrics: ScanopyMetrics;
  let bus: EventBus;
  let logged: string[];

  beforeEach(() => {
    metrics = createMetrics({ token: 't' });
    logged = [];
    bus = new EventBus({ logger: (line) => logged.push(line) });
  });
  afterEach(async () => metrics.shutdown());

  it('is a subscriber named "metrics" that wants every event', () => {
    expect(metrics.observer.name).to.equal('metrics');
    expect(metrics.observer.filter).to.deep.equal({});
  });

  it('counts one per created, updated and deleted event', async () => {
    bus.subscribe(metrics.observer);
    for (let i = 0; i < 3; i++) await bus.publish(host('created'));
    for (let i = 0; i < 2; i++) await bus.publish(host('updated'));
    await bus.publish(host('deleted'));
    await bus.publish({ kind: 'entity', entityType: 'Network', operation: 'created' });
    await bus.publish({ kind: 'entity', entityType: 'Subnet', operation: 'discovery_started' });
    const text = await metrics.scrape();
    expect(eventsTotal(text, 'Host', 'created')).to.equal(3);
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Host', 'created', 3],
      ['Host', 'updated', 2],
      ['Host', 'deleted', 1],
      ['Network', 'created', 1],
      ['Subnet', 'discovery_started', 1],
    ]);
  });

  it('counts auth and telemetry events under entity="auth" and "telemetry"', async () => {
    bus.subscribe(metrics.observer);
    await bus.publish({ kind: 'auth', operation: 'login_success', userId: 'u1' });
    await bus.publish({ kind: 'auth', operation: 'login_failed', ipAddress: '10.0.0.1' });
    await bus.publish({ kind: 'auth', operation: 'login_failed' });
    await bus.publish({ kind: 'telemetry', operation: 'org_created', organizationId: 'o1' });
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['auth', 'login_success', 1],
      ['auth', 'login_failed', 2],
      ['telemetry', 'org_created', 1],
    ]);
  });

  it('keeps counting beside subscribers that throw or reject, before and after it', async () => {
    const failing = (name: string, fail: () => void | Promise<void>): EventSubscriber => ({
      name,
      filter: {},
      handleEvents: fail,
    });
    bus.subscribe(
      failing('before', () => {
        throw new Error('before failed');
      }),
    );
    bus.subscribe(metrics.observer);
    bus.subscribe(failing('after', () => Promise.reject(new Error('after failed'))));
    for (let i = 0; i < 3; i++) await bus.publish(host('created'));
    await bus.publish(host('deleted'));
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Host', 'created', 3],
      ['Host', 'deleted', 1],
    ]);
    expect(logged).to.have.length(8);
    expect(logged[0]).to.equal('event subscriber "before" failed: before failed');
    expect(logged[1]).to.equal('event subscriber "after" failed: after failed');
  });

  it('stops counting once unsubscribed', async () => {
    const unsubscribe = bus.subscribe(metrics.observer);
    await bus.publish(host('created'));
    unsubscribe();
    await bus.publish(host('created'));
    expect(await scrapedEvents(metrics)).to.deep.equal([['Host', 'created', 1]]);
  });

  it('counts malformed events as unknown/unknown without throwing into the bus', async () => {
    bus.subscribe(metrics.observer);
    for (const bad of [null, 'Host created', { kind: 'entity', operation: 'created' }, {}]) {
      await bus.publish(bad as unknown as ScanopyEvent);
    }
    await bus.publish({ kind: 'entity', entityType: 'Wid get', operation: 'created' });
    await bus.publish({ kind: 'auth', operation: 'su do' });
    expect(logged).to.deep.equal([]);
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['unknown', 'unknown', 4],
      ['other', 'created', 1],
      ['auth', 'other', 1],
    ]);
  });
});

describe('observer.handleEvents', () => {
  let metrics: ScanopyMetrics;
  beforeEach(() => {
    metrics = createMetrics({ token: 't' });
  });
  afterEach(async () => metrics.shutdown());

  it('counts every event of a batch', async () => {
    metrics.observer.handleEvents([host('created'), host('created'), host('updated')]);
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['Host', 'created', 2],
      ['Host', 'updated', 1],
    ]);
  });

  it('never throws on what is not a batch, and counts it as unknown/unknown', async () => {
    const handle = (value: unknown) =>
      metrics.observer.handleEvents(value as readonly ScanopyEvent[]);
    expect(() => handle(null)).to.not.throw();
    expect(() => handle(undefined)).to.not.throw();
    expect(() => handle('created')).to.not.throw();
    expect(() => handle([null, 7])).to.not.throw();
    expect(() => handle(host('deleted'))).to.not.throw();
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['unknown', 'unknown', 5],
      ['Host', 'deleted', 1],
    ]);
  });

  it('never throws on an event whose properties throw, counts it as unknown, and the rest', async () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('hostile getter');
        },
      },
    );
    const throwingKind = {
      get kind(): string {
        throw new Error('kind getter');
      },
    };
    expect(() =>
      metrics.observer.handleEvents([
        hostile as ScanopyEvent,
        throwingKind as unknown as ScanopyEvent,
        host('created'),
      ]),
    ).to.not.throw();
    const text = await metrics.scrape();
    expect(eventsTotal(text, 'Host', 'created')).to.equal(1);
    expect(eventsTotal(text, 'unknown', 'unknown')).to.equal(2);
  });

  it('reports each kind of fold once through the OTel diag logger, without event contents', async () => {
    const warnings: string[] = [];
    const logger: DiagLogger = {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const secret = { password: 'hunter2' };
      metrics.observer.handleEvents([
        { kind: 'entity', operation: 'created', metadata: secret } as unknown as ScanopyEvent,
        null as unknown as ScanopyEvent,
        { kind: 'entity', entityType: 'Wid get', operation: 'created', metadata: secret },
        { kind: 'entity', entityType: 'Gad-get', operation: 'created' },
        { kind: 'auth', operation: 'su do', metadata: secret },
        { kind: 'auth', operation: 'su do' },
      ]);
    } finally {
      diag.disable();
    }
    const ours = warnings.filter((w) => w.startsWith('scanopy-metrics:'));
    expect(ours).to.have.length(3);
    expect(ours[0]).to.contain('unknown/unknown');
    expect(ours[1]).to.contain('entity="other"');
    expect(ours[2]).to.contain('operation="other"');
    expect(ours.join('\n')).to.not.contain('hunter2');
    expect(await scrapedEvents(metrics)).to.deep.equal([
      ['unknown', 'unknown', 2],
      ['other', 'created', 2],
      ['auth', 'other', 2],
    ]);
  });
});
