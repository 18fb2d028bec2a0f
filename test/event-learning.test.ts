// The event vocabulary learns: a well-formed entity type or operation outside the configured
// vocabulary counts as itself, up to a cap per label (100 entity types, 200 operations by
// default), then as `other`, with one warning naming the cap and the setting; the configured
// vocabulary is honoured first and does not use up the cap; malformed values are never learned.
import { createMetrics } from 'scanopy-metrics';

import { LEARNABLE_VALUE, LearnedValues } from '../src/labels/learned-values';
import { expect } from './helpers/chai';
import { series } from './helpers/exposition';

/** `scanopy_events_total` as `entity/operation` → count. */
async function tallyEvents(metrics: { scrape(): Promise<string> }): Promise<Map<string, number>> {
  const text = await metrics.scrape();
  return new Map(
    series(text, 'scanopy_events_total').map((s) => [
      `${s.labels.entity}/${s.labels.operation}`,
      s.value,
    ]),
  );
}

function collectWarnings(): { lines: string[]; warn: (line: string) => void } {
  const lines: string[] = [];
  return { lines, warn: (line) => lines.push(line) };
}

describe('the event vocabulary that learns', () => {
  it('admits well-formed identifiers only: a letter, then letters, digits or _, 64 at most', () => {
    for (const ok of ['A', 'Widget', 'OrderLine2', 'invoice_paid', 'x'.repeat(64), 'a_1_b']) {
      expect(LEARNABLE_VALUE.test(ok), ok).to.equal(true);
    }
    for (const bad of [
      '',
      '_x',
      '1abc',
      'x'.repeat(65),
      'has space',
      'dash-ed',
      'dot.ted',
      'émoji',
      'Host!',
      'a\nb',
      '<script>',
    ]) {
      expect(LEARNABLE_VALUE.test(bad), bad).to.equal(false);
    }
  });

  it('LearnedValues: the first `cap` distinct values are admitted for good, then one warning', () => {
    const { lines, warn } = collectWarnings();
    const learned = new LearnedValues({
      cap: 3,
      metric: 'm',
      label: 'l',
      setting: 'SETTING',
      warn,
      reserved: ['other'],
    });
    expect(
      ['a', 'b', 'a', 'c', 'd', 'b', 'e', 'other', 'bad value'].map((v) => learned.admit(v)),
    ).to.deep.equal([true, true, true, true, false, true, false, false, false]);
    expect(learned.size).to.equal(3);
    expect(lines).to.deep.equal([
      'scanopy-metrics: m: l reached its cap of 3 values beyond the configured vocabulary;' +
        ' further new values are counted as l="other" (raise SETTING, or list the values in' +
        ' otel-config.yaml)',
    ]);
  });

  it('150 new entity types: 100 count as themselves, 50 as other, one warning naming the cap and the setting', async () => {
    const { lines, warn } = collectWarnings();
    const metrics = createMetrics({ events: { warn } });
    try {
      for (let i = 0; i < 150; i++) {
        // Each published twice: the second time a learned value is simply counted.
        for (let k = 0; k < 2; k++) {
          metrics.recordEvent({ kind: 'entity', entityType: `Widget${i}`, operation: 'created' });
        }
      }
      const tally = await tallyEvents(metrics);
      const expected = new Map<string, number>();
      for (let i = 0; i < 100; i++) expected.set(`Widget${i}/created`, 2);
      expected.set('other/created', 100);
      expect(tally).to.deep.equal(expected);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain('entity reached its cap of 100 values');
      expect(lines[0]).to.contain('SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES');
      expect(lines[0]).to.contain('events.max_new_entities');
    } finally {
      await metrics.shutdown();
    }
  });

  it('250 new operations across kinds: 200 count as themselves, then other, one warning', async () => {
    const { lines, warn } = collectWarnings();
    const metrics = createMetrics({ events: { warn } });
    try {
      const kinds = ['entity', 'auth', 'telemetry'] as const;
      for (let i = 0; i < 250; i++) {
        const kind = kinds[i % 3];
        metrics.recordEvent(
          kind === 'entity'
            ? { kind, entityType: 'Host', operation: `op_${i}` }
            : { kind, operation: `op_${i}` },
        );
      }
      const tally = await tallyEvents(metrics);
      const expected = new Map<string, number>();
      const entityOf = (i: number) => (kinds[i % 3] === 'entity' ? 'Host' : kinds[i % 3]);
      for (let i = 0; i < 200; i++) expected.set(`${entityOf(i)}/op_${i}`, 1);
      for (let i = 200; i < 250; i++) {
        const key = `${entityOf(i)}/other`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      expect(tally).to.deep.equal(expected);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain('operation reached its cap of 200 values');
      expect(lines[0]).to.contain('SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS');
    } finally {
      await metrics.shutdown();
    }
  });

  it('honours the configured vocabulary first: listed and Scanopy values do not use up the cap', async () => {
    const { lines, warn } = collectWarnings();
    const metrics = createMetrics({
      events: {
        entities: ['Invoice'],
        operations: ['paid'],
        maxNewEntities: 2,
        maxNewOperations: 1,
        warn,
      },
    });
    try {
      const events = [
        { kind: 'entity', entityType: 'Invoice', operation: 'paid' },
        { kind: 'entity', entityType: 'Host', operation: 'created' },
        { kind: 'entity', entityType: 'Order', operation: 'shipped' },
        { kind: 'entity', entityType: 'Cart', operation: 'emptied' },
        { kind: 'entity', entityType: 'Basket', operation: 'paid' },
        { kind: 'entity', entityType: 'Invoice', operation: 'shipped' },
        { kind: 'entity', entityType: 'Order', operation: 'created' },
      ];
      for (const event of events) metrics.recordEvent(event);
      expect(await tallyEvents(metrics)).to.deep.equal(
        new Map([
          ['Invoice/paid', 1],
          ['Host/created', 1],
          ['Order/shipped', 1],
          ['Cart/other', 1],
          ['other/paid', 1],
          ['Invoice/shipped', 1],
          ['Order/created', 1],
        ]),
      );
      expect(lines).to.have.length(2);
    } finally {
      await metrics.shutdown();
    }
  });

  it('never learns malformed or reserved values, and 0 turns learning off', async () => {
    const { lines, warn } = collectWarnings();
    const metrics = createMetrics({ events: { warn } });
    const off = createMetrics({ events: { maxNewEntities: 0, maxNewOperations: 0, warn } });
    try {
      for (const m of [metrics, off]) {
        for (const entityType of [
          'has space',
          'Host!',
          '',
          'x'.repeat(65),
          'other',
          'auth',
          'unknown',
        ]) {
          m.recordEvent({ kind: 'entity', entityType, operation: 'created' });
        }
        m.recordEvent({ kind: 'auth', operation: 'not-snake' });
        m.recordEvent({ kind: 'auth', operation: 'unknown' });
      }
      const expected = new Map([
        ['other/created', 7],
        ['auth/other', 2],
      ]);
      expect(await tallyEvents(metrics)).to.deep.equal(expected);
      expect(await tallyEvents(off)).to.deep.equal(expected);
      off.recordEvent({ kind: 'entity', entityType: 'Widget', operation: 'created' });
      expect((await tallyEvents(off)).get('other/created')).to.equal(8);
      // A cap of 0 is a choice, not a limit reached: no warning.
      expect(lines).to.deep.equal([]);
    } finally {
      await metrics.shutdown();
      await off.shutdown();
    }
  });
});
