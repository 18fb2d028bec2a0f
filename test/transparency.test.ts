// The package never changes what the service answers (issue 5). Two reference services run side
// by side in child processes, one plain (`node server.js`), one preloaded (`node --require
// dist/preload/register.js server.js`, token set). fast-check generates sequences of requests over every
// route of the service (success, 4xx, the thrown error, the streamed body), with every kind of
// credential, right and wrong, and with bodies valid, invalid, unknown-field and declared too large.
// Each request goes to both services in turn, so their stores stay in step; status, every header
// but Date (names, values, order) and body must be identical, once the ids and timestamps each
// store generated are replaced by their order of appearance.
import http from 'node:http';

import fc from 'fast-check';

import { DEMO_API_KEY, DEMO_DAEMON_KEY, DEMO_USER_SESSION } from '../reference-service/auth';
import { BODY_LIMIT_BYTES } from '../reference-service/body';
import { RESOURCE_NAMES } from '../reference-service/store';
import type { ResourceName } from '../reference-service/store';
import { expect } from './helpers/chai';
import { series } from './helpers/exposition';
import { ReferenceProcesses } from './helpers/reference-process';
import type { ReferenceProcess } from './helpers/reference-process';
import { scrapeOk, send } from './helpers/request';
import type { Received, Sent } from './helpers/request';

const TOKEN = 'transparency-token-0d6a5e';

const CREDENTIALS: Record<string, string[]> = {
  none: [],
  user: ['Authorization', `Bearer ${DEMO_USER_SESSION}`],
  userLowercaseScheme: ['Authorization', `bearer ${DEMO_USER_SESSION}`],
  wrongUser: ['Authorization', 'Bearer not-a-session'],
  metricsToken: ['Authorization', `Bearer ${TOKEN}`],
  basic: ['Authorization', 'Basic dXNlcjpwYXNz'],
  emptyAuthorization: ['Authorization', ''],
  twoAuthorizations: [
    'Authorization',
    `Bearer ${DEMO_USER_SESSION}`,
    'Authorization',
    'Bearer not-a-session',
  ],
  apiKey: ['X-Api-Key', DEMO_API_KEY],
  wrongApiKey: ['X-Api-Key', 'not-a-key'],
  daemon: ['X-Daemon-Key', DEMO_DAEMON_KEY],
  wrongDaemon: ['X-Daemon-Key', 'not-a-daemon-key'],
};

type Target =
  | { kind: 'collection'; resource: ResourceName }
  | { kind: 'existing'; resource: ResourceName; index: number }
  | { kind: 'unknown'; resource: ResourceName; id: string }
  | { kind: 'fixed'; path: string };

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string }
  | { kind: 'declaredTooLarge' };

interface Call {
  /** On the side's keep-alive connection, or on a connection of its own (`Connection: close`). */
  keepAlive: boolean;
  method: string;
  target: Target;
  query: string;
  credential: string;
  body: Body;
}

const resource = fc.constantFrom(...RESOURCE_NAMES);
const name = fc.oneof(
  fc.constantFrom('h1', 'web', ' ', '', 'x'.repeat(201)),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 8, unit: 'grapheme' }),
);
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 3, arbitrary: resource.map((r) => ({ kind: 'collection' as const, resource: r })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ resource, index: fc.nat(30) })
      .map((t) => ({ kind: 'existing' as const, ...t })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ resource, id: fc.oneof(fc.uuid(), fc.constantFrom('1', 'x', '%20', 'a.b')) })
      .map((t) => ({ kind: 'unknown' as const, ...t })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('/api/health', '/api/v1/debug/error', '/api/v1/debug/stream')
      .map((path) => ({ kind: 'fixed' as const, path })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '/api/v1/debug',
          '/api/v1',
          '/api/v1/',
          '/api/v1/hosts/',
          '/api/v1/hosts/a/b',
          '/api/v1/unknown',
          '/metrics/',
          '/METRICS',
          '//metrics',
          '/',
          '/favicon.ico',
        ),
        fc.stringMatching(/^\/[a-z0-9._~-]{0,12}(\/[a-z0-9%]{0,6})?$/),
      )
      .filter((path) => path !== '/metrics')
      .map((path) => ({ kind: 'fixed' as const, path })),
  },
);
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 3, arbitrary: name.map((n) => ({ kind: 'json' as const, value: { name: n } })) },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          name,
          hostname: fc.string({ maxLength: 6 }),
          cidr: fc.constantFrom('10.0.0.0/24', '192.168.1.0/24'),
          network_id: fc.constantFrom('n1', 'n2'),
          host_id: fc.constantFrom('h1'),
          extra: fc.constant('unknown field'),
        },
        { requiredKeys: [] },
      )
      .map((value) => ({ kind: 'json' as const, value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>([], null, 'text', 42, { name: 7 }, { name: 'n', cidr: 5 })
      .map((value) => ({ kind: 'json' as const, value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('{not json', '', '{"name":', '\u0000', '{"name":"a"}}')
      .map((text) => ({ kind: 'raw' as const, text })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'declaredTooLarge' as const }) },
);
const call: fc.Arbitrary<Call> = fc.record({
  keepAlive: fc.boolean(),
  method: fc.constantFrom(
    'GET',
    'GET',
    'POST',
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'HEAD',
    'OPTIONS',
  ),
  target,
  query: fc.constantFrom('', '', '', '?x=1', '?limit=10&offset=0'),
  credential: fc.constantFrom(...Object.keys(CREDENTIALS)),
  body,
});

/** One sequence through every kind of answer, run first: generated ones follow. */
const none: Body = { kind: 'none' };
const hosts = (index: number): Target => ({ kind: 'existing', resource: 'hosts', index });
const fixed = (path: string): Target => ({ kind: 'fixed', path });
const collection: Target = { kind: 'collection', resource: 'hosts' };
const at = (method: string, t: Target, credential = 'user', b: Body = none): Call => ({
  keepAlive: true,
  method,
  target: t,
  query: '',
  credential,
  body: b,
});
const EVERY_KIND_OF_ANSWER: Call[] = [
  at('POST', collection, 'user', { kind: 'json', value: { name: 'h1', hostname: 'h1.lan' } }),
  at('GET', hosts(0)),
  at('PUT', hosts(0), 'apiKey', { kind: 'json', value: { name: 'h2' } }),
  at('PUT', hosts(0), 'daemon', { kind: 'raw', text: '{not json' }),
  at('POST', collection, 'user', { kind: 'declaredTooLarge' }),
  at('POST', collection, 'wrongUser', { kind: 'json', value: { name: 'h3' } }),
  at('PATCH', collection),
  at('OPTIONS', collection),
  at('DELETE', hosts(0)),
  at('GET', hosts(0)),
  at('GET', fixed('/api/v1/debug/error')),
  at('GET', fixed('/api/v1/debug/stream')),
  at('HEAD', fixed('/api/health')),
  at('GET', fixed('/no/such/path')),
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

/** What one service is: its process, the ids its store gave out, and how they are renamed. */
class Side {
  readonly ids: Record<ResourceName, string[]> = {
    hosts: [],
    networks: [],
    subnets: [],
    services: [],
  };
  private readonly names = new Map<string, string>();
  /** One connection, kept alive between requests. */
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly service: ReferenceProcess) {}

  /** The request as this service must receive it: "existing record #n" is its own record. */
  request(c: Call): Sent {
    let path: string;
    switch (c.target.kind) {
      case 'collection':
        path = `/api/v1/${c.target.resource}`;
        break;
      case 'existing': {
        const ids = this.ids[c.target.resource];
        const id = ids.length === 0 ? 'none-yet' : ids[c.target.index % ids.length];
        path = `/api/v1/${c.target.resource}/${id}`;
        break;
      }
      case 'unknown':
        path = `/api/v1/${c.target.resource}/${c.target.id}`;
        break;
      case 'fixed':
        path = c.target.path;
        break;
    }
    const headers = [...CREDENTIALS[c.credential]];
    let payload: string | undefined;
    if (c.body.kind === 'json') payload = JSON.stringify(c.body.value);
    if (c.body.kind === 'raw') payload = c.body.text;
    if (payload !== undefined) headers.push('Content-Type', 'application/json');
    if (c.body.kind === 'declaredTooLarge') {
      // Declared beyond the limit; the few bytes sent are never read.
      headers.push(
        'Content-Type',
        'application/json',
        'Content-Length',
        String(BODY_LIMIT_BYTES + 1),
      );
      payload = '{"name":"x"}';
    }
    // A body declared longer than sent leaves the connection unusable: never on the kept one.
    const agent = c.keepAlive && c.body.kind !== 'declaredTooLarge' ? this.agent : undefined;
    return { method: c.method, path: path + c.query, headers, body: payload, agent };
  }

  /** Remembers the ids of records it created, in order. */
  learn(c: Call, response: Received): void {
    if (c.method !== 'POST' || response.status !== 201 || c.target.kind !== 'collection') return;
    const created = JSON.parse(response.body) as { data: { id: string } };
    this.ids[c.target.resource].push(created.data.id);
  }

  /**
   * The response with each generated id replaced by its order of first appearance here, and each
   * timestamp by a placeholder (both have a fixed length: Content-Length is compared as sent).
   */
  normalise(response: Received): { status: number; headers: string[][]; body: string } {
    const headers: string[][] = [];
    for (let i = 0; i < response.rawHeaders.length; i += 2) {
      if (response.rawHeaders[i].toLowerCase() !== 'date') {
        headers.push([response.rawHeaders[i], response.rawHeaders[i + 1]]);
      }
    }
    const body = response.body
      .replace(UUID, (id) => {
        let renamed = this.names.get(id);
        if (renamed === undefined) {
          renamed = `<id ${this.names.size}>`;
          this.names.set(id, renamed);
        }
        return renamed;
      })
      .replace(TIMESTAMP, '<timestamp>');
    return { status: response.status, headers, body };
  }
}

describe('transparency: the package never changes what the service answers', function () {
  this.timeout(60_000);
  const processes = new ReferenceProcesses();
  let plain: Side;
  let preloaded: Side;
  let sent = 0;
  const statuses = new Set<number>();

  before(async () => {
    const [a, b] = await Promise.all([
      processes.start({ preload: false, env: { SCANOPY_METRICS_TOKEN: TOKEN } }),
      processes.start({ preload: true, env: { SCANOPY_METRICS_TOKEN: TOKEN } }),
    ]);
    plain = new Side(a);
    preloaded = new Side(b);
  });
  after(async () => {
    plain.agent.destroy();
    preloaded.agent.destroy();
    await processes.stopAll();
  });

  it('answers generated request sequences identically with and without the preload', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 12 }), async (calls) => {
        for (const c of calls) {
          const [fromPlain, fromPreloaded] = [
            await send(plain.service.url, plain.request(c)),
            await send(preloaded.service.url, preloaded.request(c)),
          ];
          sent++;
          plain.learn(c, fromPlain);
          preloaded.learn(c, fromPreloaded);
          statuses.add(fromPlain.status);
          expect(preloaded.normalise(fromPreloaded), JSON.stringify(c)).to.deep.equal(
            plain.normalise(fromPlain),
          );
        }
      }),
      { numRuns: 200, examples: [[EVERY_KIND_OF_ANSWER]] },
    );
    // The generated requests reached every kind of answer the service gives.
    expect([...statuses].sort()).to.include.members([200, 201, 400, 401, 404, 405, 413, 500]);
  });

  it('counted every one of those requests, and logged the same errors as the plain service', async () => {
    const text = await scrapeOk(preloaded.service.url, TOKEN);
    const counted = series(text, 'http_requests_total')
      .filter((s) => s.labels.path !== '/metrics')
      .reduce((total, s) => total + s.value, 0);
    expect(counted).to.equal(sent);
    const errorsOf = (side: Side) => side.service.stderr().match(/Error: boom/g)?.length ?? 0;
    expect(errorsOf(preloaded)).to.equal(errorsOf(plain));
    expect(
      preloaded.service
        .stderr()
        .replace(/^ {2}.*$/gm, '')
        .trim(),
    ).to.equal(
      plain.service
        .stderr()
        .replace(/^ {2}.*$/gm, '')
        .trim(),
    );
  });
});
