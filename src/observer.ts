import diagnosticsChannel from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import type { Instruments } from './instruments';
import { eventLabels, type EventFold, type EventVocabulary } from './labels';
import { EVENTS_CHANNEL, type EventFilter, type EventSubscriber, type ScanopyEvent } from './types';

const FOLD_MESSAGES: Record<EventFold, string> = {
  malformed:
    'an event without a valid kind, operation or entityType was counted as unknown/unknown',
  entity: 'an entity type outside the known vocabulary was counted as entity="other"',
  operation: 'an operation outside the known vocabulary was counted as operation="other"',
};

/**
 * Counts `scanopy_events_total` from the service's domain events. It subscribes to a
 * Scanopy-style event bus (name `metrics`, every event) or to the `scanopy:events` diagnostics
 * channel; it never throws into either, and it counts what it cannot read rather than drop it.
 */
export class MetricsObserver implements EventSubscriber {
  readonly name = 'metrics';
  readonly filter: EventFilter = {};
  private readonly reported = new Set<EventFold>();

  constructor(
    private readonly instruments: Instruments,
    private readonly vocabulary: EventVocabulary,
  ) {}

  handleEvents(events: readonly ScanopyEvent[]): void {
    if (!Array.isArray(events)) return this.record(events);
    for (const event of events) this.record(event);
  }

  /** Counts one event; anything at all may be passed. */
  record(event: unknown): void {
    try {
      const labels = eventLabels(event, this.vocabulary);
      this.instruments.recordEvent(labels.entity, labels.operation);
      if (labels.folded !== undefined) this.report(labels.folded, event);
    } catch (error) {
      diag.error('scanopy-metrics: recording an event failed', error);
    }
  }

  /** Subscribes to the diagnostics channel; returns the function that unsubscribes. */
  subscribeToChannel(name: string = EVENTS_CHANNEL): () => void {
    const onMessage = (message: unknown): void => {
      if (Array.isArray(message)) for (const event of message) this.record(event);
      else this.record(message);
    };
    diagnosticsChannel.subscribe(name, onMessage);
    return () => {
      diagnosticsChannel.unsubscribe(name, onMessage);
    };
  }

  private report(reason: EventFold, event: unknown): void {
    if (this.reported.has(reason)) return;
    this.reported.add(reason);
    diag.warn(`scanopy-metrics: ${FOLD_MESSAGES[reason]} (first seen: ${describe(event)})`);
  }
}

/** A short, safe description of what was received, for the one-time report. */
function describe(event: unknown): string {
  if (typeof event !== 'object' || event === null) return typeof event;
  const { kind, entityType, operation } = event as Record<string, unknown>;
  return JSON.stringify({ kind, entityType, operation }).slice(0, 200);
}
