import type { Context } from 'koa';
import { CALLER_KINDS } from './types';
import {
  KNOWN_ENTITIES,
  KNOWN_METHODS,
  KNOWN_OPERATIONS,
  OTHER,
  OTHER_METHOD,
  UNKNOWN,
  UNMATCHED_PATH,
} from './vocabulary';

/**
 * Pure helpers that turn what a request or an event carries into bounded label values.
 * Every function here maps an unbounded input onto a fixed, small set of outputs.
 */

export function foldMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
}

interface RouterContext {
  /** The layers @koa/router matched on the path: routes (with methods) and `use` middleware. */
  matched?: readonly { path: unknown; methods: readonly string[] }[];
  _matchedRoute?: unknown;
}

/**
 * The route pattern @koa/router matched (`/api/v1/hosts/:id`, prefixes and nested routers
 * included), never the raw URL. The last matched route layer is preferred to `_matchedRoute`,
 * which router-level middleware overwrites with its own pattern while it runs: an auth
 * middleware that answers 401 before the route runs still gets the route's pattern.
 */
export function routePattern(ctx: Context): string {
  const { matched, _matchedRoute } = ctx as RouterContext;
  if (matched !== undefined) {
    for (let i = matched.length - 1; i >= 0; i--) {
      const layer = matched[i];
      if (layer.methods.length > 0 && typeof layer.path === 'string') return layer.path;
    }
  }
  return typeof _matchedRoute === 'string' ? _matchedRoute : UNMATCHED_PATH;
}

const CALLERS: ReadonlySet<string> = new Set(CALLER_KINDS);

/** The caller kind the service's auth decided; absent means nobody authenticated. */
export function foldCallerKind(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'anonymous';
  return typeof value === 'string' && CALLERS.has(value) ? value : OTHER;
}

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
