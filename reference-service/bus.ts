// An in-process event bus shaped like Scanopy's: named, filtered subscribers receive batches of
// events; one failing subscriber never stops delivery to the others. Events are also mirrored on a
// `node:diagnostics_channel` channel so code that is not wired to this bus (the preloaded metrics
// package) can observe them without the service knowing it exists.
import diagnosticsChannel from 'node:diagnostics_channel';

import type { EventFilter, EventSubscriber, ScanopyEvent } from 'scanopy-metrics';

// The channel scanopy-metrics listens on. Named here rather than imported: a service publishes
// its events without depending on the metrics package.
export const EVENTS_CHANNEL = 'scanopy:events';

/** Receives one line per swallowed subscriber failure. */
export type Logger = (message: string) => void;

export interface EventBusOptions {
  /** Where subscriber failures are reported; defaults to `console.error`. */
  logger?: Logger;
}

/**
 * Whether `event` passes `filter`. Every field that is present must match (a conjunction); an
 * absent field matches everything, so `{}` matches all events. `entityTypes` only entity events
 * can satisfy, since auth and telemetry events carry no entity type.
 */
export function matchesFilter(filter: EventFilter, event: ScanopyEvent): boolean {
  if (filter.kinds !== undefined && !filter.kinds.includes(event.kind)) return false;
  if (filter.entityTypes !== undefined) {
    if (event.kind !== 'entity' || !filter.entityTypes.includes(event.entityType)) return false;
  }
  if (filter.operations !== undefined && !filter.operations.includes(event.operation)) {
    return false;
  }
  return true;
}

export class EventBus {
  // Looked up once: diagnostics_channel returns the same object for a name, and `hasSubscribers`
  // is the cheap check that lets us skip publishing when nobody listens.
  private readonly channel = diagnosticsChannel.channel(EVENTS_CHANNEL);
  private readonly subscribers: EventSubscriber[] = [];
  private readonly logger: Logger;

  constructor(options: EventBusOptions = {}) {
    this.logger = options.logger ?? ((message) => console.error(message));
  }

  /** Adds a subscriber (once; subscribing it again is a no-op). Returns a function undoing it. */
  subscribe(subscriber: EventSubscriber): () => boolean {
    if (!this.subscribers.includes(subscriber)) this.subscribers.push(subscriber);
    return () => this.unsubscribe(subscriber);
  }

  /** Removes a subscriber; returns whether it was subscribed. */
  unsubscribe(subscriber: EventSubscriber): boolean {
    const index = this.subscribers.indexOf(subscriber);
    if (index === -1) return false;
    this.subscribers.splice(index, 1);
    return true;
  }

  /**
   * Delivers `[event]` to each matching subscriber in subscription order, awaiting each one, and
   * never rejects: a subscriber's error is logged and swallowed.
   *
   * The diagnostics channel is published first and synchronously. Node 20 does not let a throwing
   * channel subscriber reach us either: it rethrows the error on `process.nextTick`, where it
   * becomes an uncaught exception of that subscriber's making, so there is nothing to guard here.
   */
  async publish(event: ScanopyEvent): Promise<void> {
    if (this.channel.hasSubscribers) this.channel.publish(event);

    // A snapshot, so (un)subscribing during delivery affects only later events.
    const batch: readonly ScanopyEvent[] = [event];
    for (const subscriber of [...this.subscribers]) {
      if (!matchesFilter(subscriber.filter, event)) continue;
      try {
        await subscriber.handleEvents(batch);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger(`event subscriber "${subscriber.name}" failed: ${reason}`);
      }
    }
  }
}
