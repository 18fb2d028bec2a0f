// Goal 1, events: the cost of counting one domain event, measured in a child of its own (see
// micro-child.ts). Each variant has its own loop function so that V8 optimizes each call site for
// one callee, as it would in a service; a shared loop calling through a function parameter would
// measure a megamorphic call instead.
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Counter, Registry } from 'prom-client';
import { createMetrics, type EntityEvent, type ScanopyEvent } from 'scanopy-metrics';
import { gc } from './rpc';
import { rotate } from './stats';
import { PullReader } from './subjects/otel-sdk';

export const EVENT_VARIANTS = [
  'scanopy-metrics recordEvent',
  'scanopy-metrics observer.handleEvents',
  'prom-client counter.inc',
  'otel-sdk counter.add',
] as const;
export type EventVariant = (typeof EVENT_VARIANTS)[number];

export interface EventsRequest {
  ops: number;
  batch: number;
  rounds: number;
}

/** ns per event, one entry per counted round. */
export type EventsResult = Record<EventVariant, number[]>;

const EVENT: EntityEvent = { kind: 'entity', entityType: 'Host', operation: 'created' };

export async function runEvents(request: EventsRequest): Promise<EventsResult> {
  const { ops, batch: batchSize, rounds } = request;
  const metrics = createMetrics();
  const batch: ScanopyEvent[] = new Array<ScanopyEvent>(batchSize).fill(EVENT);
  const registry = new Registry();
  const promCounter = new Counter({
    name: 'scanopy_events_total',
    help: 'Total number of events published on the event bus',
    labelNames: ['entity', 'operation'],
    registers: [registry],
  });
  const provider = new MeterProvider({ readers: [new PullReader()] });
  const otelCounter = provider.getMeter('bench').createCounter('scanopy_events_total');

  // Labels written inline, as application code writes them.
  const loops: Record<EventVariant, (n: number) => number> = {
    'scanopy-metrics recordEvent': (n) => {
      for (let i = 0; i < n; i++) metrics.recordEvent(EVENT);
      return n;
    },
    'scanopy-metrics observer.handleEvents': (n) => {
      const calls = Math.floor(n / batchSize);
      for (let i = 0; i < calls; i++) metrics.observer.handleEvents(batch);
      return calls * batchSize;
    },
    'prom-client counter.inc': (n) => {
      for (let i = 0; i < n; i++) promCounter.inc({ entity: 'Host', operation: 'created' });
      return n;
    },
    'otel-sdk counter.add': (n) => {
      for (let i = 0; i < n; i++) otelCounter.add(1, { entity: 'Host', operation: 'created' });
      return n;
    },
  };

  const result = Object.fromEntries(EVENT_VARIANTS.map((v) => [v, []])) as unknown as EventsResult;
  let packageEvents = 0;
  for (let round = 0; round <= rounds; round++) {
    for (const variant of rotate(EVENT_VARIANTS, round)) {
      gc();
      const start = process.hrtime.bigint();
      const done = loops[variant](ops);
      const ns = Number(process.hrtime.bigint() - start);
      if (variant.startsWith('scanopy-metrics')) packageEvents += done;
      if (round > 0) result[variant].push(ns / done);
    }
  }

  // A recorder that dropped its events would look fast: check the package counted every one.
  const line = (await metrics.scrape())
    .split('\n')
    .find((l) => l.startsWith('scanopy_events_total{') && l.includes('entity="Host"'));
  const counted = Number(line?.split(' ').pop());
  if (counted !== packageEvents) {
    throw new Error(
      `scanopy_events_total counted ${counted} events, ${packageEvents} were recorded`,
    );
  }
  await provider.shutdown();
  await metrics.shutdown();
  return result;
}
