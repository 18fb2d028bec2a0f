// Counts domain events: the event-bus subscriber and the `scanopy:events` diagnostics channel.
import diagnosticsChannel from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import type { Instruments } from '../collection/instruments';
import {
  eventLabels,
  type EventFold,
  type EventLabels,
  type EventVocabulary,
} from '../labels/event-labels';
import { UNKNOWN } from '../labels/vocabulary';
import {
  EVENTS_CHANNEL,
  type EventFilter,
  type EventSubscriber,
  type ScanopyEvent,
} from '../types';

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
  private readonly channels = new Set<string>();

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
    let labels: EventLabels;
    try {
      labels = eventLabels(event, this.vocabulary);
    } catch {
      // An object whose properties throw when read (a getter, a revoked Proxy) is no event.
      labels = { entity: UNKNOWN, operation: UNKNOWN, folded: 'malformed' };
    }
    this.instruments.recordEvent(labels.entity, labels.operation);
    if (labels.folded !== undefined) this.report(labels.folded, event);
  }

  /**
   * Subscribes to the diagnostics channel, once however often it is called (a second
   * subscription would count every event twice); returns the function that unsubscribes.
   */
  subscribeToChannel(name: string = EVENTS_CHANNEL): () => void {
    if (!this.channels.has(name)) {
      diagnosticsChannel.subscribe(name, this.onMessage);
      this.channels.add(name);
    }
    return () => {
      if (this.channels.delete(name)) diagnosticsChannel.unsubscribe(name, this.onMessage);
    };
  }

  private readonly onMessage = (message: unknown): void => {
    if (Array.isArray(message)) for (const event of message) this.record(event);
    else this.record(message);
  };

  private report(reason: EventFold, event: unknown): void {
    if (this.reported.has(reason)) return;
    this.reported.add(reason);
    diag.warn(`scanopy-metrics: ${FOLD_MESSAGES[reason]} (first seen: ${describe(event)})`);
  }
}

/** A short, safe description of what was received, for the one-time report. */
function describe(event: unknown): string {
  if (typeof event !== 'object' || event === null) return typeof event;
  try {
    const { kind, entityType, operation } = event as Record<string, unknown>;
    return (JSON.stringify({ kind, entityType, operation }) ?? 'object').slice(0, 200);
  } catch {
    return 'an object that cannot be read';
  }
}
