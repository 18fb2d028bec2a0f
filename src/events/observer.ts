// Counts domain events: the event-bus subscriber and the `scanopy:events` diagnostics channel.
import diagnosticsChannel from 'node:diagnostics_channel';
import { diag } from '../diagnostics/diag';
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
  entity:
    'an entity type outside the vocabulary and not a well-formed identifier was counted as entity="other"',
  operation:
    'an operation outside the vocabulary and not a well-formed identifier was counted as operation="other"',
};

/** More events than one message can reasonably carry: reading them would hang the service. */
export const MAX_EVENTS_PER_MESSAGE = 1_000_000;

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
    this.recordMessage(events);
  }

  /**
   * One message of the bus or the channel: an event or a list of events, read so that nothing a
   * publisher passes can throw out of here (a revoked Proxy, a throwing index getter or `length`).
   * What cannot be read is counted as one malformed event; so is a list whose length is no
   * length, or claims more than MAX_EVENTS_PER_MESSAGE events (which would hang the service).
   */
  private recordMessage(message: unknown): void {
    let length: unknown;
    try {
      length = Array.isArray(message) ? (message as unknown[]).length : undefined;
    } catch {
      return this.malformed('a value that cannot be read');
    }
    if (length === undefined) return this.record(message);
    if (!Number.isSafeInteger(length) || (length as number) > MAX_EVENTS_PER_MESSAGE) {
      return this.malformed('a list without a usable length');
    }
    const list = message as unknown[];
    for (let i = 0; i < (length as number); i++) {
      let event: unknown;
      try {
        event = list[i];
      } catch {
        this.malformed('a list element that cannot be read');
        continue;
      }
      this.record(event);
    }
  }

  private malformed(what: string): void {
    this.instruments.recordEvent(UNKNOWN, UNKNOWN);
    this.report('malformed', what);
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
    if (labels.folded !== undefined) this.report(labels.folded, describe(event));
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
    this.recordMessage(message);
  };

  /** Reports a fold once; `seen` is a short, safe description of what was received. */
  private report(reason: EventFold, seen: string): void {
    if (this.reported.has(reason)) return;
    this.reported.add(reason);
    diag.warn(`scanopy-metrics: ${FOLD_MESSAGES[reason]} (first seen: ${seen})`);
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
