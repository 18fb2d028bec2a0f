// Bounded label values of a domain event: entity and operation.
import { LEARNABLE_VALUE, LearnedValues } from './learned-values';
import { KNOWN_ENTITIES, KNOWN_OPERATIONS, OTHER, UNKNOWN } from './vocabulary';

/**
 * Pure helpers that turn what a published event carries into bounded `entity` and `operation`
 * label values.
 */

/** A vocabulary the observer accepts, extendable by configuration, learning within caps. */
export interface EventVocabulary {
  entities: ReadonlySet<string>;
  operations: Readonly<Record<'entity' | 'auth' | 'telemetry', ReadonlySet<string>>>;
  /** Well-formed entity types outside `entities`, counted as themselves up to a cap. */
  newEntities: LearnedValues;
  /** Well-formed operations outside `operations` (any kind), counted as themselves up to a cap. */
  newOperations: LearnedValues;
}

/** How many new entity types and operations are counted as themselves by default. */
export const DEFAULT_MAX_NEW_ENTITIES = 100;
export const DEFAULT_MAX_NEW_OPERATIONS = 200;

export interface EventVocabularyOptions {
  /** Entity types and operations counted as themselves, beyond Scanopy's own. */
  entities?: readonly string[];
  operations?: readonly string[];
  /** Further well-formed entity types counted as themselves; 0 learns none. Default 100. */
  maxNewEntities?: number;
  /** Further well-formed operations counted as themselves; 0 learns none. Default 200. */
  maxNewOperations?: number;
  /** Where the one warning per cap goes. Default: a line on stderr. */
  warn?: (line: string) => void;
}

const stderrLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function eventVocabulary(extra: EventVocabularyOptions = {}): EventVocabulary {
  const more = extra.operations ?? [];
  const warn = extra.warn ?? stderrLine;
  return {
    entities: new Set([...KNOWN_ENTITIES, ...(extra.entities ?? [])]),
    operations: {
      entity: new Set([...KNOWN_OPERATIONS.entity, ...more]),
      auth: new Set([...KNOWN_OPERATIONS.auth, ...more]),
      telemetry: new Set([...KNOWN_OPERATIONS.telemetry, ...more]),
    },
    newEntities: new LearnedValues({
      cap: extra.maxNewEntities ?? DEFAULT_MAX_NEW_ENTITIES,
      metric: 'scanopy_events_total',
      label: 'entity',
      setting: 'SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES or events.max_new_entities',
      warn,
      // The values entity already has: the fold values and the kinds of the other events.
      reserved: [OTHER, UNKNOWN, 'auth', 'telemetry'],
    }),
    newOperations: new LearnedValues({
      cap: extra.maxNewOperations ?? DEFAULT_MAX_NEW_OPERATIONS,
      metric: 'scanopy_events_total',
      label: 'operation',
      setting: 'SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS or events.max_new_operations',
      warn,
      reserved: [OTHER, UNKNOWN],
    }),
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
 * others; `operation` is the published operation. A value outside the vocabulary counts as itself
 * if it is a well-formed identifier and its label's cap of learned values is not reached, else as
 * `other`; something that is not an event at all counts as `unknown`/`unknown`.
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
    const type = entityType as string;
    // The configured vocabulary first; then what was learned, or can be within the cap.
    if (vocabulary.entities.has(type) || vocabulary.newEntities.admit(type)) entity = type;
    else {
      entity = OTHER;
      // Past the cap the vocabulary warned itself; a malformed value is reported here.
      if (!LEARNABLE_VALUE.test(type)) folded = 'entity';
    }
  }
  let op = operation;
  if (!vocabulary.operations[kind].has(operation) && !vocabulary.newOperations.admit(operation)) {
    op = OTHER;
    if (!LEARNABLE_VALUE.test(operation)) folded ??= 'operation';
  }
  return folded ? { entity, operation: op, folded } : { entity, operation: op };
}
