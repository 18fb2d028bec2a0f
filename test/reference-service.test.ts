// The reference service on its own, without the metrics package: over real HTTP on loopback,
// plus its event bus and its process entry point.
import { spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';

import Koa from 'koa';
import { EVENTS_CHANNEL } from 'scanopy-metrics';
import type { EventFilter, EventSubscriber, ScanopyEvent } from 'scanopy-metrics';

import { createApp } from '../reference-service/app';
import {
  DEMO_API_KEY,
  DEMO_DAEMON_KEY,
  DEMO_USER_SESSION,
  authMiddleware,
} from '../reference-service/auth';
import type { AuthState } from '../reference-service/auth';
import { EventBus, matchesFilter } from '../reference-service/bus';
import { BODY_LIMIT_BYTES } from '../reference-service/body';
import { DEMO_ORGANIZATION_ID, RESOURCES, STREAM_CHUNKS } from '../reference-service/routes';
import { DEFAULT_PORT, readConfig } from '../reference-service/server';
import type { StoredRecord } from '../reference-service/store';
import { expect } from './helpers/chai';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const USER_AGENT = 'reference-service-test';

function isIsoTimestamp(value: unknown): boolean {
  return typeof value === 'string' && new Date(value).toISOString() === value;
}

/** A bus subscriber that keeps every batch it is handed. */
function recorder(name = 'recorder', filter: EventFilter = {}) {
  const batches: (readonly ScanopyEvent[])[] = [];
  const subscriber: EventSubscriber = {
    name,
    filter,
    handleEvents: (events) => {
      batches.push(events);
    },
  };
  return { subscriber, batches, events: () => batches.flat() };
}

interface Response {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
}

async function request(
  baseUrl: string,
  method: string,
  urlPath: string,
  options: { body?: string | AsyncIterable<Uint8Array>; headers?: Record<string, string> } = {},
): Promise<Response> {
  const streamed = options.body !== undefined && typeof options.body !== 'string';
  const res = await fetch(baseUrl + urlPath, {
    method,
    body: options.body,
    headers: { 'user-agent': USER_AGENT, ...options.headers },
    ...(streamed ? { duplex: 'half' as const } : {}),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** The record inside a `{ success, data, error }` envelope. */
function dataOf(response: Response): StoredRecord {
  return (response.body as { data: StoredRecord }).data;
}

/** Collects what is published on the `scanopy:events` diagnostics channel until `stop()`. */
function channelRecorder() {
  const messages: unknown[] = [];
  const onMessage = (message: unknown) => {
    messages.push(message);
  };
  diagnosticsChannel.subscribe(EVENTS_CHANNEL, onMessage);
  return { messages, stop: () => diagnosticsChannel.unsubscribe(EVENTS_CHANNEL, onMessage) };
}

const SAMPLE_FIELDS: Record<
  string,
  { create: Record<string, string>; update: Record<string, string> }
> = {
  hosts: {
    create: { name: 'web-1', hostname: 'web-1.lan', network_id: 'net-1' },
    update: { name: 'web-1-renamed', hostname: 'web-1.example' },
  },
  networks: {
    create: { name: 'office', cidr: '10.0.0.0/16' },
    update: { name: 'office-lan', cidr: '10.1.0.0/16' },
  },
  subnets: {
    create: { name: 'office-a', cidr: '10.0.1.0/24', network_id: 'net-1' },
    update: { name: 'office-b', cidr: '10.0.2.0/24', network_id: 'net-2' },
  },
  services: {
    create: { name: 'nginx', host_id: 'host-1' },
    update: { name: 'nginx-proxy', host_id: 'host-2', network_id: 'net-3' },
  },
};

describe('reference service', () => {
  let server: ListeningServer;
  let bus: EventBus;
  let events: ReturnType<typeof recorder>;
  let appErrors: Error[];
  let call: (
    method: string,
    urlPath: string,
    options?: Parameters<typeof request>[3],
  ) => Promise<Response>;

  beforeEach(async () => {
    const service = createApp();
    bus = service.bus;
    events = recorder();
    bus.subscribe(events.subscriber);
    appErrors = [];
    // Also keeps Koa from printing the stack of expected server errors.
    service.app.on('error', (error: Error) => appErrors.push(error));
    server = await listen(service.app);
    call = (method, urlPath, options) => request(server.url, method, urlPath, options);
  });

  afterEach(async () => {
    await server.close();
  });

  describe('GET /api/health', () => {
    it('answers the Scanopy health envelope', async () => {
      const res = await call('GET', '/api/health');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(res.text).to.equal('{"success":true,"data":"Scanopy Server 0.1.0","error":null}');
    });

    it('sits before auth, so a wrong credential does not matter there', async () => {
      const res = await call('GET', '/api/health', { headers: { 'x-api-key': 'wrong' } });
      expect(res.status).to.equal(200);
      expect(events.events()).to.deep.equal([]);
    });
  });

  for (const { resource, entityType } of RESOURCES) {
    const { create, update } = SAMPLE_FIELDS[resource];
    const base = `/api/v1/${resource}`;

    describe(base, () => {
      it('creates, lists, reads, replaces and deletes a record, publishing one event per write', async () => {
        const channel = channelRecorder();
        try {
          const created = await call('POST', base, { body: JSON.stringify(create) });
          expect(created.status).to.equal(201);
          const record = dataOf(created);
          expect(record.id).to.match(UUID);
          expect(isIsoTimestamp(record.created_at)).to.equal(true);
          expect(created.body).to.deep.equal({
            success: true,
            data: {
              ...create,
              id: record.id,
              created_at: record.created_at,
              updated_at: record.created_at,
            },
            error: null,
          });

          const listed = await call('GET', base);
          expect(listed.status).to.equal(200);
          expect(listed.body).to.deep.equal({
            success: true,
            data: [record],
            error: null,
            meta: { total: 1 },
          });

          const read = await call('GET', `${base}/${record.id}`);
          expect(read.status).to.equal(200);
          expect(read.body).to.deep.equal({ success: true, data: record, error: null });

          const replaced = await call('PUT', `${base}/${record.id}`, {
            body: JSON.stringify(update),
          });
          expect(replaced.status).to.equal(200);
          const updatedRecord = dataOf(replaced);
          expect(isIsoTimestamp(updatedRecord.updated_at)).to.equal(true);
          expect(replaced.body).to.deep.equal({
            success: true,
            data: {
              ...update,
              id: record.id,
              created_at: record.created_at,
              updated_at: updatedRecord.updated_at,
            },
            error: null,
          });

          const deleted = await call('DELETE', `${base}/${record.id}`);
          expect(deleted.status).to.equal(200);
          expect(deleted.body).to.deep.equal({
            success: true,
            data: { id: record.id },
            error: null,
          });

          const gone = await call('GET', `${base}/${record.id}`);
          expect(gone.status).to.equal(404);
          expect(gone.body).to.deep.equal({
            success: false,
            data: null,
            error: `${entityType} not found`,
          });

          const published = events.events();
          expect(events.batches.map((batch) => batch.length)).to.deep.equal([1, 1, 1]);
          const networkIdAfter = (fields: Record<string, string>) =>
            entityType === 'Network' ? record.id : fields.network_id;
          const expected = [
            ['created', networkIdAfter(create)],
            ['updated', networkIdAfter(update)],
            ['deleted', networkIdAfter(update)],
          ].map(([operation, networkId], index) => ({
            kind: 'entity',
            entityType,
            operation,
            id: (published[index] as { id: string }).id,
            entityId: record.id,
            networkId,
            organizationId: DEMO_ORGANIZATION_ID,
            timestamp: (published[index] as { timestamp: string }).timestamp,
            authenticated: 'anonymous',
          }));
          expect(published).to.deep.equal(expected);
          for (const event of published) {
            expect(event.id).to.match(UUID);
            expect(isIsoTimestamp(event.timestamp)).to.equal(true);
          }
          expect(new Set(published.map((event) => event.id)).size).to.equal(3);
          // The same three events, and only those, went out on the diagnostics channel.
          expect(channel.messages).to.have.length(3);
          channel.messages.forEach((message, index) => expect(message).to.equal(published[index]));
        } finally {
          channel.stop();
        }
      });

      it('answers 404 for an unknown id and publishes nothing', async () => {
        const unknown = '/00000000-0000-4000-8000-000000000000';
        const notFound = { success: false, data: null, error: `${entityType} not found` };
        for (const [method, body] of [
          ['GET', undefined],
          ['PUT', JSON.stringify(update)],
          ['DELETE', undefined],
        ] as const) {
          const res = await call(method, base + unknown, { body });
          expect(res.status, method).to.equal(404);
          expect(res.body, method).to.deep.equal(notFound);
        }
        expect(events.events()).to.deep.equal([]);
      });

      it('answers 400 without a name, on create and on replace', async () => {
        const created = dataOf(await call('POST', base, { body: JSON.stringify(create) }));
        const missingName = {
          success: false,
          data: null,
          error: 'name must be a non-empty string of at most 200 characters',
        };
        const withoutName = Object.fromEntries(
          Object.entries(create).filter(([field]) => field !== 'name'),
        );
        const onCreate = await call('POST', base, { body: JSON.stringify(withoutName) });
        expect(onCreate.status).to.equal(400);
        expect(onCreate.body).to.deep.equal(missingName);
        const onReplace = await call('PUT', `${base}/${created.id}`, { body: '{}' });
        expect(onReplace.status).to.equal(400);
        expect(onReplace.body).to.deep.equal(missingName);
        expect(events.events().map((event) => event.operation)).to.deep.equal(['created']);
      });
    });
  }

  describe('request bodies', () => {
    const invalid = (error: string) => ({ success: false, data: null, error });

    it('answers 400 for invalid JSON', async () => {
      for (const body of ['{"name":', '', 'name=web-1']) {
        const res = await call('POST', '/api/v1/hosts', { body });
        expect(res.status, body).to.equal(400);
        expect(res.body, body).to.deep.equal(invalid('Request body is not valid JSON'));
      }
    });

    it('answers 400 for JSON that is not an object', async () => {
      for (const body of ['[]', 'null', '"web-1"', '42']) {
        const res = await call('POST', '/api/v1/networks', { body });
        expect(res.status, body).to.equal(400);
        expect(res.body, body).to.deep.equal(invalid('Request body must be a JSON object'));
      }
    });

    it('answers 400 for an empty, blank, non-string or too long name', async () => {
      const error = invalid('name must be a non-empty string of at most 200 characters');
      for (const name of ['', '   ', 42, null, ['web'], 'x'.repeat(201)]) {
        const res = await call('POST', '/api/v1/subnets', { body: JSON.stringify({ name }) });
        expect(res.status, JSON.stringify(name)).to.equal(400);
        expect(res.body, JSON.stringify(name)).to.deep.equal(error);
      }
      const longest = await call('POST', '/api/v1/subnets', {
        body: JSON.stringify({ name: 'x'.repeat(200) }),
      });
      expect(longest.status).to.equal(201);
      expect(dataOf(longest).name).to.equal('x'.repeat(200));
    });

    it('answers 400 for an optional field of the wrong type or length, and for unknown fields', async () => {
      const wrongType = await call('POST', '/api/v1/hosts', {
        body: JSON.stringify({ name: 'web-1', hostname: 7 }),
      });
      expect(wrongType.status).to.equal(400);
      expect(wrongType.body).to.deep.equal(
        invalid('hostname must be a string of at most 200 characters'),
      );
      const tooLong = await call('POST', '/api/v1/networks', {
        body: JSON.stringify({ name: 'office', cidr: '1'.repeat(201) }),
      });
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body).to.deep.equal(
        invalid('cidr must be a string of at most 200 characters'),
      );
      const unknownField = await call('POST', '/api/v1/networks', {
        body: JSON.stringify({ name: 'office', hostname: 'nope' }),
      });
      expect(unknownField.status).to.equal(400);
      expect(unknownField.body).to.deep.equal(invalid('Unknown field; allowed fields: name, cidr'));
      expect(events.events()).to.deep.equal([]);
    });

    it('accepts a body of exactly 1 MiB and answers 413 for one byte more', async () => {
      const json = '{"name":"big"}';
      const atLimit = json + ' '.repeat(BODY_LIMIT_BYTES - json.length);
      const accepted = await call('POST', '/api/v1/hosts', { body: atLimit });
      expect(accepted.status).to.equal(201);
      expect(dataOf(accepted).name).to.equal('big');

      const rejected = await call('POST', '/api/v1/hosts', { body: atLimit + ' ' });
      expect(rejected.status).to.equal(413);
      expect(rejected.headers.get('connection')).to.equal('close');
      expect(rejected.body).to.deep.equal(invalid('Request body exceeds 1048576 bytes'));
      expect(events.events().map((event) => event.operation)).to.deep.equal(['created']);
    });

    it('answers 413 for an oversized body sent without Content-Length', async () => {
      // 17 chunks of 64 KiB, one per turn of the event loop: fetch sends them chunked.
      async function* chunks() {
        for (let i = 0; i < 17; i += 1) {
          await new Promise((resolve) => setImmediate(resolve));
          yield new Uint8Array(64 * 1024).fill(0x20);
        }
      }
      const res = await call('POST', '/api/v1/hosts', { body: chunks() });
      expect(res.status).to.equal(413);
      expect(res.body).to.deep.equal(invalid('Request body exceeds 1048576 bytes'));
      // The connection was closed, not reused with leftover body bytes: the next request is fine.
      const health = await call('GET', '/api/health');
      expect(health.status).to.equal(200);
    });
  });

  describe('auth', () => {
    const callers: [string, Record<string, string>][] = [
      ['user', { authorization: `Bearer ${DEMO_USER_SESSION}` }],
      ['api_key', { 'x-api-key': DEMO_API_KEY }],
      ['daemon', { 'x-daemon-key': DEMO_DAEMON_KEY }],
      ['anonymous', {}],
    ];

    for (const [kind, headers] of callers) {
      it(`marks the caller as ${kind} on the events its writes publish`, async () => {
        const res = await call('POST', '/api/v1/networks', {
          body: JSON.stringify({ name: 'office' }),
          headers,
        });
        expect(res.status).to.equal(201);
        const published = events.events();
        expect(published).to.have.length(1);
        expect(published[0]).to.include({
          kind: 'entity',
          operation: 'created',
          authenticated: kind,
        });
      });
    }

    const failures: [string, Record<string, string>, string, string][] = [
      [
        'a wrong session',
        { authorization: 'Bearer nope' },
        'login_failed',
        'Invalid or expired session',
      ],
      [
        'a non-Bearer scheme',
        { authorization: `Basic ${DEMO_USER_SESSION}` },
        'login_failed',
        'Invalid or expired session',
      ],
      ['a wrong API key', { 'x-api-key': 'nope' }, 'api_key_auth_failed', 'Invalid API key'],
      [
        'a wrong daemon key',
        { 'x-daemon-key': 'nope' },
        'api_key_auth_failed',
        'Invalid daemon key',
      ],
    ];

    for (const [label, headers, operation, error] of failures) {
      it(`answers 401 to ${label} and publishes one ${operation} event without the credential`, async () => {
        const res = await call('POST', '/api/v1/hosts', {
          body: JSON.stringify({ name: 'web-1' }),
          headers,
        });
        expect(res.status).to.equal(401);
        expect(res.body).to.deep.equal({ success: false, data: null, error });

        const published = events.events();
        expect(published).to.have.length(1);
        const event = published[0] as { id: string; timestamp: string };
        expect(published[0]).to.deep.equal({
          kind: 'auth',
          operation,
          id: event.id,
          timestamp: event.timestamp,
          ipAddress: '127.0.0.1',
          userAgent: USER_AGENT,
        });
        expect(event.id).to.match(UUID);
        expect(isIsoTimestamp(event.timestamp)).to.equal(true);
        expect(JSON.stringify(published)).not.to.include('nope');
        expect(JSON.stringify(published)).not.to.include(DEMO_USER_SESSION);
        // Nothing was written.
        expect(dataOf(await call('GET', '/api/v1/hosts'))).to.deep.equal([]);
      });
    }

    describe('authMiddleware on its own', () => {
      // A bare app whose last middleware echoes ctx.state.entityType and whose first one records
      // it after the response, including for requests auth rejected.
      let bare: ListeningServer;
      let recorded: (string | undefined)[];

      beforeEach(async () => {
        const app = new Koa<AuthState>();
        recorded = [];
        app.use(async (ctx, next) => {
          await next();
          recorded.push(ctx.state.entityType);
        });
        app.use(authMiddleware(new EventBus()));
        app.use((ctx) => {
          ctx.body = ctx.state.entityType;
        });
        bare = await listen(app);
      });

      afterEach(async () => {
        await bare.close();
      });

      it('stores the caller kind at ctx.state.entityType', async () => {
        for (const [kind, headers] of callers) {
          const res = await request(bare.url, 'GET', '/', { headers });
          expect(res.status, kind).to.equal(200);
          expect(res.text, kind).to.equal(kind);
        }
        expect(recorded).to.deep.equal(['user', 'api_key', 'daemon', 'anonymous']);
      });

      it('leaves ctx.state.entityType at anonymous when it rejects a credential', async () => {
        for (const [, headers] of failures) {
          const res = await request(bare.url, 'GET', '/', { headers });
          expect(res.status).to.equal(401);
        }
        expect(recorded).to.deep.equal(['anonymous', 'anonymous', 'anonymous', 'anonymous']);
      });
    });
  });

  describe('debug routes and fallbacks', () => {
    it('GET /api/v1/debug/error answers 500 in the envelope and reaches app.on("error")', async () => {
      const res = await call('GET', '/api/v1/debug/error');
      expect(res.status).to.equal(500);
      expect(res.body).to.deep.equal({
        success: false,
        data: null,
        error: 'Internal server error',
      });
      expect(appErrors.map((error) => error.message)).to.deep.equal(['boom']);
    });

    it('client errors do not reach app.on("error")', async () => {
      await call('GET', '/api/v1/hosts/unknown');
      await call('POST', '/api/v1/hosts', { body: '{' });
      expect(appErrors).to.deep.equal([]);
    });

    it('GET /api/v1/debug/stream streams its whole body with 200', async () => {
      const res = await call('GET', '/api/v1/debug/stream');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
      expect(res.text).to.equal(STREAM_CHUNKS.join(''));
    });

    it('unknown paths get Koa’s default 404', async () => {
      const res = await call('GET', '/nowhere');
      expect(res.status).to.equal(404);
      expect(res.text).to.equal('Not Found');
    });

    it('a method a resource does not support gets 405 with Allow', async () => {
      const res = await call('PATCH', '/api/v1/hosts');
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('HEAD, GET, POST');
    });
  });
});

describe('EventBus', () => {
  const hostCreated: ScanopyEvent = { kind: 'entity', entityType: 'Host', operation: 'created' };
  const loginFailed: ScanopyEvent = { kind: 'auth', operation: 'login_failed' };
  const orgCreated: ScanopyEvent = { kind: 'telemetry', operation: 'org_created' };

  describe('matchesFilter', () => {
    const cases: [EventFilter, ScanopyEvent, boolean][] = [
      [{}, hostCreated, true],
      [{}, loginFailed, true],
      [{}, orgCreated, true],
      [{ kinds: ['entity'] }, hostCreated, true],
      [{ kinds: ['entity'] }, loginFailed, false],
      [{ kinds: ['auth', 'telemetry'] }, orgCreated, true],
      [{ kinds: [] }, hostCreated, false],
      [{ entityTypes: ['Host'] }, hostCreated, true],
      [{ entityTypes: ['Network'] }, hostCreated, false],
      [{ entityTypes: ['Host'] }, loginFailed, false],
      [{ operations: ['created'] }, hostCreated, true],
      [{ operations: ['login_failed'] }, loginFailed, true],
      [{ operations: ['deleted'] }, hostCreated, false],
      [{ kinds: ['entity'], entityTypes: ['Host'], operations: ['created'] }, hostCreated, true],
      [{ kinds: ['entity'], entityTypes: ['Host'], operations: ['updated'] }, hostCreated, false],
    ];
    for (const [filter, event, expected] of cases) {
      it(`${JSON.stringify(filter)} ${expected ? 'matches' : 'does not match'} ${event.kind}/${event.operation}`, () => {
        expect(matchesFilter(filter, event)).to.equal(expected);
      });
    }
  });

  it('delivers [event] to matching subscribers in subscription order', async () => {
    const bus = new EventBus();
    const order: string[] = [];
    const received: (readonly ScanopyEvent[])[] = [];
    const subscriber = (name: string, filter: EventFilter): EventSubscriber => ({
      name,
      filter,
      handleEvents: async (events) => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push(name);
        received.push(events);
      },
    });
    bus.subscribe(subscriber('first', {}));
    bus.subscribe(subscriber('auth-only', { kinds: ['auth'] }));
    bus.subscribe(subscriber('second', { entityTypes: ['Host'] }));
    bus.subscribe(subscriber('third', { operations: ['created'] }));

    await bus.publish(hostCreated);
    expect(order).to.deep.equal(['first', 'second', 'third']);
    expect(received).to.deep.equal([[hostCreated], [hostCreated], [hostCreated]]);
    expect(received[0][0]).to.equal(hostCreated);
  });

  it('subscribes a subscriber once and stops delivering after unsubscribe', async () => {
    const bus = new EventBus();
    const { subscriber, events } = recorder();
    const undo = bus.subscribe(subscriber);
    bus.subscribe(subscriber);
    await bus.publish(hostCreated);
    expect(events()).to.deep.equal([hostCreated]);

    expect(undo()).to.equal(true);
    expect(bus.unsubscribe(subscriber)).to.equal(false);
    await bus.publish(loginFailed);
    expect(events()).to.deep.equal([hostCreated]);
  });

  for (const [how, fail] of [
    [
      'throws',
      () => {
        throw new Error('sync boom');
      },
    ],
    ['rejects', () => Promise.reject(new Error('async boom'))],
  ] as const) {
    it(`logs a subscriber that ${how}, once, and still delivers to the next one`, async () => {
      const lines: string[] = [];
      const bus = new EventBus({ logger: (line) => lines.push(line) });
      const failing: EventSubscriber = { name: 'failing', filter: {}, handleEvents: fail };
      const after = recorder('after');
      bus.subscribe(failing);
      bus.subscribe(after.subscriber);

      await bus.publish(hostCreated);
      const message = how === 'throws' ? 'sync boom' : 'async boom';
      expect(lines).to.deep.equal([`event subscriber "failing" failed: ${message}`]);
      expect(after.events()).to.deep.equal([hostCreated]);
    });
  }

  it('logs with console.error when no logger is given', async () => {
    const original = console.error;
    const lines: unknown[][] = [];
    console.error = (...args: unknown[]) => {
      lines.push(args);
    };
    try {
      const bus = new EventBus();
      bus.subscribe({
        name: 'failing',
        filter: {},
        handleEvents: () => {
          throw new Error('boom');
        },
      });
      await bus.publish(hostCreated);
    } finally {
      console.error = original;
    }
    expect(lines).to.deep.equal([['event subscriber "failing" failed: boom']]);
  });

  it(`also publishes each event on the ${EVENTS_CHANNEL} diagnostics channel`, async () => {
    const bus = new EventBus();
    const channel = channelRecorder();
    try {
      await bus.publish(hostCreated);
      await bus.publish(loginFailed);
    } finally {
      channel.stop();
    }
    await bus.publish(orgCreated);
    expect(channel.messages).to.have.length(2);
    expect(channel.messages[0]).to.equal(hostCreated);
    expect(channel.messages[1]).to.equal(loginFailed);
  });
});

describe('reference service process', () => {
  const serverScript = path.join(__dirname, '..', 'reference-service', 'server.js');

  describe('readConfig', () => {
    it('defaults to 127.0.0.1:60072', () => {
      expect(DEFAULT_PORT).to.equal(60072);
      expect(readConfig({})).to.deep.equal({ host: '127.0.0.1', port: 60072 });
    });

    it('reads SCANOPY_SERVER_PORT and SCANOPY_SERVER_HOST', () => {
      expect(readConfig({ SCANOPY_SERVER_PORT: '0' })).to.deep.equal({
        host: '127.0.0.1',
        port: 0,
      });
      expect(
        readConfig({ SCANOPY_SERVER_PORT: '65535', SCANOPY_SERVER_HOST: '0.0.0.0' }),
      ).to.deep.equal({ host: '0.0.0.0', port: 65535 });
    });

    it('rejects a port that is not an integer from 0 to 65535, naming the variable', () => {
      for (const raw of ['abc', '-1', '65536', '80.5', ' 80', '0x50', '1e3']) {
        expect(() => readConfig({ SCANOPY_SERVER_PORT: raw }), raw).to.throw(
          `SCANOPY_SERVER_PORT must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`,
        );
      }
    });
  });

  function run(env: Record<string, string>) {
    // Only what the test sets, so the defaults apply to the rest.
    const inherited = { ...process.env };
    delete inherited.SCANOPY_SERVER_HOST;
    delete inherited.SCANOPY_SERVER_PORT;
    const child = spawn(process.execPath, [serverScript], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const firstLine = new Promise<string>((resolve, reject) => {
      const check = () => {
        const newline = stdout.indexOf('\n');
        if (newline !== -1) resolve(stdout.slice(0, newline));
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`exited before printing; stderr: ${stderr}`)));
    });
    return { child, exited, firstLine, output: () => ({ stdout, stderr }) };
  }

  it('prints the port it listens on, serves, and exits 0 on SIGTERM', async () => {
    const proc = run({ SCANOPY_SERVER_PORT: '0' });
    const line = await proc.firstLine;
    const match = /^scanopy reference service listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
    expect(match, line).not.to.equal(null);
    const port = Number(match?.[1]);
    expect(port).to.be.greaterThan(0);

    const res = await request(`http://127.0.0.1:${port}`, 'GET', '/api/health');
    expect(res.status).to.equal(200);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.deep.equal({ code: 0, signal: null });
    expect(proc.output()).to.deep.equal({ stdout: `${line}\n`, stderr: '' });
  });

  it('exits 1 with one stderr line naming SCANOPY_SERVER_PORT when it is invalid', async () => {
    const proc = run({ SCANOPY_SERVER_PORT: 'abc' });
    void proc.firstLine.catch(() => undefined);
    expect(await proc.exited).to.deep.equal({ code: 1, signal: null });
    expect(proc.output()).to.deep.equal({
      stdout: '',
      stderr: 'SCANOPY_SERVER_PORT must be an integer from 0 to 65535, got "abc"\n',
    });
  });
});
