// Bounded label values of a domain event: entity and operation.
import { KNOWN_ENTITIES, KNOWN_OPERATIONS, OTHER, UNKNOWN } from './vocabulary';

/**
 * Pure helpers that turn what a published event carries into bounded `entity` and `operation`
 * label values.
 */

/** A vocabulary the observer accepts, extendable by configuration. */
export interface EventVocabulary {
  entities: ReadonlySet<string>;
  operations: Readonly<Record<'entity' | 'auth' | 'telemetry', ReadonlySet<string>>>;
}

export function eventVocabulary(
  extra: { entities?: readonly string[]; operations?: readonly string[] } = {},
): EventVocabulary {
  const more = extra.operations ?? [];
  return {
    entities: new Set([...KNOWN_ENTITIES, ...(extra.entities ?? [])]),
    operations: {
      entity: new Set([...KNOWN_OPERATIONS.entity, ...more]),
      auth: new Set([...KNOWN_OPERATIONS.auth, ...more]),
      telemetry: new Set([...KNOWN_OPERATIONS.telemetry, ...more]),
    },
  };
}

export type EventFold = 'malformed' | 'entity' | 'operation';

export interface EventLabels {
  entity: string;
  operation: string;
  /** Why a label was folded, if one was; the observer reports each reason once. */
  folded?: EventFold;
}

/**
 * `entity` is the entity type for entity events and the kind (`auth`, `telemetry`) for the
 * others; `operation` is the published operation. Values outside the vocabulary fold to `other`;
 * something that is not an event at all counts as `unknown`/`unknown`.
 */
export function eventLabels(event: unknown, vocabulary: EventVocabulary): EventLabels {
  if (typeof event !== 'object' || event === null) {
    return { entity: UNKNOWN, operation: UNKNOWN, folded: 'malformed' };
  }
  const { kind, operation, entityType } = event as Record<string, unknown>;
  if (
    (kind !== 'entity' && kind !== 'auth' && kind !== 'telemetry') ||
    typeof operation !== 'string' ||
    (kind === 'entity' && typeof entityType !== 'string')
  ) {
    return { entity: UNKNOWN, operation: UNKNOWN, folded: 'malformed' };
  }
  let folded: EventFold | undefined;
  let entity: string = kind;
  if (kind === 'entity') {
    entity = vocabulary.entities.has(entityType as string) ? (entityType as string) : OTHER;
    if (entity === OTHER) folded = 'entity';
  }
  let op = operation;
  if (!vocabulary.operations[kind].has(operation)) {
    op = OTHER;
    folded ??= 'operation';
  }
  return folded ? { entity, operation: op, folded } : { entity, operation: op };
}
