/** Kinds of domain event Scanopy publishes on its event bus. */
export type EventKind = 'entity' | 'auth' | 'telemetry';

/** An entity was created, updated, deleted, or a discovery started or was cancelled. */
export interface EntityEvent {
  kind: 'entity';
  /** The entity type as the service names it, in PascalCase: `Host`, `Network`, `Subnet`, ... */
  entityType: string;
  /** snake_case: `created`, `updated`, `deleted`, `discovery_started`, `discovery_cancelled`. */
  operation: string;
  id?: string;
  entityId?: string;
  networkId?: string;
  organizationId?: string;
  timestamp?: string;
  /** The kind of caller that caused the event (`user`, `daemon`, `api_key`, ...). */
  authenticated?: string;
  metadata?: unknown;
}

/** Registration, logins, password and key changes. */
export interface AuthEvent {
  kind: 'auth';
  /** snake_case: `login_success`, `login_failed`, `api_key_auth_failed`, ... */
  operation: string;
  id?: string;
  userId?: string;
  organizationId?: string;
  timestamp?: string;
  ipAddress?: string;
  userAgent?: string;
  metadata?: unknown;
}

/** Product telemetry: `org_created`, `plan_selected`, ... */
export interface TelemetryEvent {
  kind: 'telemetry';
  operation: string;
  id?: string;
  organizationId?: string;
  timestamp?: string;
  metadata?: unknown;
}

export type ScanopyEvent = EntityEvent | AuthEvent | TelemetryEvent;

/**
 * Which events a subscriber wants. An absent field matches everything, so `{}` is Scanopy's
 * `EventFilter::all()`.
 */
export interface EventFilter {
  kinds?: readonly EventKind[];
  entityTypes?: readonly string[];
  operations?: readonly string[];
}

/** A subscriber of a Scanopy-style event bus: named, filtered, handed batches of events. */
export interface EventSubscriber {
  readonly name: string;
  readonly filter: EventFilter;
  handleEvents(events: readonly ScanopyEvent[]): void | Promise<void>;
}

/** The kinds of caller Scanopy's auth distinguishes; the `entity_type` label takes these values. */
export const CALLER_KINDS = [
  'user',
  'daemon',
  'api_key',
  'system',
  'external_service',
  'anonymous',
] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

/** The name of the `node:diagnostics_channel` channel on which services publish their events. */
export const EVENTS_CHANNEL = 'scanopy:events';

/**
 * The part of a Koa context that the package's public types name. Koa 2 and 3 contexts (and
 * @eggjs/koa's) have all of it; it is declared here so that the package's types need neither
 * @types/koa (koa is an optional peer) nor @types/node in the consumer's project.
 */
export interface KoaContext {
  method: string;
  path: string;
  status: number;
  state: unknown;
}

/** What a Koa middleware receives as `next`. */
export type KoaNext = () => Promise<unknown>;

/** A Koa middleware, as `app.use()` and a router's `use()` take it. */
export type KoaMiddleware = (ctx: KoaContext, next: KoaNext) => Promise<void>;

/** An application's whole middleware, composed, as Koa's `handleRequest` runs it. */
export type ComposedMiddleware = (ctx: KoaContext) => Promise<unknown>;

/**
 * What the preload runs at the start of each request of a Koa application: it starts recording
 * the request and returns the middleware to run for it (the application's own, or the route's).
 */
export type RequestStart = (
  ctx: KoaContext,
  appMiddleware: ComposedMiddleware,
) => ComposedMiddleware;
