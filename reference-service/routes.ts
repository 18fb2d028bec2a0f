// The REST API under /api/v1: CRUD for a few of Scanopy's resources, answered in Scanopy's
// `{ success, data, error }` envelope, plus two debug routes that tests use to provoke a server
// error and a streamed response. Each resource is its own router mounted with `router.use`, so
// @koa/router reports route patterns such as `/api/v1/hosts/:id` in `ctx._matchedRoute`.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { EntityEvent } from 'scanopy-metrics';

import { authMiddleware, type AuthState } from './auth';
import { readJsonBody } from './body';
import type { EventBus } from './bus';
import type { Collection, RecordFields, ResourceName, Store, StoredRecord } from './store';

/** The single organization every record of the demo belongs to. */
export const DEMO_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000001';

export const NAME_MAX_LENGTH = 200;
export const FIELD_MAX_LENGTH = 200;

interface ResourceDefinition {
  resource: ResourceName;
  /** The entity type, as Scanopy names it in events. */
  entityType: 'Host' | 'Network' | 'Subnet' | 'Service';
  /** Optional string fields besides the required `name`. */
  optionalFields: readonly string[];
}

export const RESOURCES: readonly ResourceDefinition[] = [
  { resource: 'hosts', entityType: 'Host', optionalFields: ['hostname', 'network_id'] },
  { resource: 'networks', entityType: 'Network', optionalFields: ['cidr'] },
  { resource: 'subnets', entityType: 'Subnet', optionalFields: ['cidr', 'network_id'] },
  { resource: 'services', entityType: 'Service', optionalFields: ['host_id', 'network_id'] },
];

type Context = RouterContext<AuthState>;

/** Checks a parsed body against a resource's fields; 400 with the first problem found. */
function validateFields(ctx: Context, body: unknown, optionalFields: readonly string[]) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return ctx.throw(400, 'Request body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const allowed = ['name', ...optionalFields];
  // Unknown fields are rejected rather than stored; the message does not echo the caller's key.
  if (Object.keys(input).some((key) => !allowed.includes(key))) {
    return ctx.throw(400, `Unknown field; allowed fields: ${allowed.join(', ')}`);
  }
  const { name } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > NAME_MAX_LENGTH) {
    return ctx.throw(
      400,
      `name must be a non-empty string of at most ${NAME_MAX_LENGTH} characters`,
    );
  }
  const fields: RecordFields = { name };
  for (const field of optionalFields) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > FIELD_MAX_LENGTH) {
      return ctx.throw(400, `${field} must be a string of at most ${FIELD_MAX_LENGTH} characters`);
    }
    fields[field] = value;
  }
  return fields;
}

function resourceRouter(definition: ResourceDefinition, collection: Collection, bus: EventBus) {
  const { entityType, optionalFields } = definition;
  const router = new Router<AuthState>();

  const find = (ctx: Context): StoredRecord =>
    collection.get(ctx.params.id) ?? ctx.throw(404, `${entityType} not found`);

  // Published after the store write and awaited before the response, so whoever reads metrics
  // right after the response already sees the event.
  const publish = (ctx: Context, operation: string, record: StoredRecord) =>
    bus.publish({
      kind: 'entity',
      entityType,
      operation,
      id: randomUUID(),
      entityId: record.id,
      // A network is its own network; the other resources may point at one.
      networkId: entityType === 'Network' ? record.id : record.network_id,
      organizationId: DEMO_ORGANIZATION_ID,
      timestamp: new Date().toISOString(),
      authenticated: ctx.state.entityType,
    } satisfies EntityEvent);

  router.get('/', (ctx) => {
    const records = collection.list();
    ctx.body = { success: true, data: records, error: null, meta: { total: records.length } };
  });

  router.post('/', async (ctx) => {
    const fields = validateFields(ctx, await readJsonBody(ctx), optionalFields);
    const record = collection.create(fields);
    await publish(ctx, 'created', record);
    ctx.status = 201;
    ctx.body = { success: true, data: record, error: null };
  });

  router.get('/:id', (ctx) => {
    ctx.body = { success: true, data: find(ctx), error: null };
  });

  router.put('/:id', async (ctx) => {
    find(ctx); // 404 before reading the body
    const fields = validateFields(ctx, await readJsonBody(ctx), optionalFields);
    const record = collection.update(ctx.params.id, fields) ?? find(ctx);
    await publish(ctx, 'updated', record);
    ctx.body = { success: true, data: record, error: null };
  });

  router.delete('/:id', async (ctx) => {
    const record = find(ctx);
    collection.delete(record.id);
    await publish(ctx, 'deleted', record);
    ctx.body = { success: true, data: { id: record.id }, error: null };
  });

  return router;
}

/** Routes that exist for tests: an unhandled error and a slowly streamed body. */
function debugRouter() {
  const router = new Router<AuthState>();

  router.get('/error', () => {
    throw new Error('boom');
  });

  router.get('/stream', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = Readable.from(streamChunks());
  });

  return router;
}

/** What `GET /api/v1/debug/stream` sends, in order: five chunks about 10 ms apart. */
export const STREAM_CHUNKS = ['chunk 1\n', 'chunk 2\n', 'chunk 3\n', 'chunk 4\n', 'chunk 5\n'];

async function* streamChunks() {
  for (const chunk of STREAM_CHUNKS) {
    await sleep(10);
    yield chunk;
  }
}

/** The `/api/v1` router: each resource and the debug routes are mounted as nested routers. */
export function createApiRouter(store: Store, bus: EventBus): Router<AuthState> {
  const api = new Router<AuthState>({ prefix: '/api/v1' });
  api.use(authMiddleware(bus));
  for (const definition of RESOURCES) {
    const router = resourceRouter(definition, store[definition.resource], bus);
    api.use(`/${definition.resource}`, router.routes(), router.allowedMethods());
  }
  const debug = debugRouter();
  api.use('/debug', debug.routes(), debug.allowedMethods());
  return api;
}
