// The package wired by hand in front of the reference service (as the service's one marked place
// would do it): CRUD through real HTTP as each kind of caller, then the exact exposition.
import type { ScanopyMetrics } from 'scanopy-metrics';
import { createMetrics } from 'scanopy-metrics';

import { createApp } from '../reference-service/app';
import { DEMO_API_KEY, DEMO_DAEMON_KEY, DEMO_USER_SESSION } from '../reference-service/auth';
import { STREAM_CHUNKS } from '../reference-service/routes';
import { expect } from './helpers/chai';
import { requestsRow, requestsTotal, sample, series, table } from './helpers/exposition';
import { scrape } from './helpers/http';
import { checkMetrics } from './helpers/promtool';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'reference-metrics-token';

const CREDENTIALS: Record<string, Record<string, string>> = {
  user: { Authorization: `Bearer ${DEMO_USER_SESSION}` },
  api_key: { 'X-Api-Key': DEMO_API_KEY },
  daemon: { 'X-Daemon-Key': DEMO_DAEMON_KEY },
  anonymous: {},
  bad_session: { Authorization: 'Bearer not-a-session' },
  bad_api_key: { 'X-Api-Key': 'not-a-key' },
};

interface Envelope {
  success: boolean;
  data: { id: string } | null;
  error: string | null;
}

describe('metrics on the reference service', () => {
  let metrics: ScanopyMetrics;
  let server: ListeningServer;
  let errors: unknown[];
  let logged: string[];

  async function call(
    caller: keyof typeof CREDENTIALS,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; envelope: Envelope }> {
    const headers: Record<string, string> = { ...CREDENTIALS[caller] };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(server.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, envelope: (await response.json()) as Envelope };
  }

  async function create(caller: string, resource: string, name: string): Promise<string> {
    const { status, envelope } = await call(caller, 'POST', `/api/v1/${resource}`, { name });
    expect(status).to.equal(201);
    return envelope.data?.id ?? '';
  }

  beforeEach(async () => {
    errors = [];
    logged = [];
    const { app, bus } = createApp({ logger: (line) => logged.push(line) });
    metrics = createMetrics({ token: TOKEN });
    // The wiring a service does by hand: metrics first, then the route, then the service.
    app.middleware.unshift(metrics.middleware(), metrics.route());
    bus.subscribe(metrics.observer);
    app.on('error', (error: unknown) => errors.push(error));
    server = await listen(app);
  });
  afterEach(async () => {
    await server.close();
    await metrics.shutdown();
  });

  it('counts CRUD as each kind of caller, with route patterns, statuses and events', async () => {
    // user: three hosts, then read, replace, delete one, and read it again
    const hostIds = [
      await create('user', 'hosts', 'a'),
      await create('user', 'hosts', 'b'),
      await create('user', 'hosts', 'c'),
    ];
    expect((await call('user', 'GET', '/api/v1/hosts')).status).to.equal(200);
    expect((await call('user', 'GET', `/api/v1/hosts/${hostIds[0]}`)).status).to.equal(200);
    expect(
      (await call('user', 'PUT', `/api/v1/hosts/${hostIds[0]}`, { name: 'a2' })).status,
    ).to.equal(200);
    expect((await call('user', 'DELETE', `/api/v1/hosts/${hostIds[0]}`)).status).to.equal(200);
    expect((await call('user', 'GET', `/api/v1/hosts/${hostIds[0]}`)).status).to.equal(404);
    // api_key: a network, replaced
    const networkId = await create('api_key', 'networks', 'lan');
    expect(
      (await call('api_key', 'PUT', `/api/v1/networks/${networkId}`, { name: 'wan' })).status,
    ).to.equal(200);
    // daemon: a subnet, deleted
    const subnetId = await create('daemon', 'subnets', '10.0.0.0/24');
    expect((await call('daemon', 'DELETE', `/api/v1/subnets/${subnetId}`)).status).to.equal(200);
    // anonymous: a service, a list, the health check, and invalid JSON
    await create('anonymous', 'services', 'ssh');
    expect((await call('anonymous', 'GET', '/api/v1/services')).status).to.equal(200);
    expect((await call('anonymous', 'GET', '/api/health')).status).to.equal(200);
    expect((await call('anonymous', 'POST', '/api/v1/services', '{not json')).status).to.equal(400);

    const text = await scrape(server.url, TOKEN);
    expect(table(text, 'http_requests_total')).to.deep.equal([
      requestsRow('POST', '/api/v1/hosts', '201', 'user', 3),
      requestsRow('GET', '/api/v1/hosts', '200', 'user', 1),
      requestsRow('GET', '/api/v1/hosts/:id', '200', 'user', 1),
      requestsRow('PUT', '/api/v1/hosts/:id', '200', 'user', 1),
      requestsRow('DELETE', '/api/v1/hosts/:id', '200', 'user', 1),
      requestsRow('GET', '/api/v1/hosts/:id', '404', 'user', 1),
      requestsRow('POST', '/api/v1/networks', '201', 'api_key', 1),
      requestsRow('PUT', '/api/v1/networks/:id', '200', 'api_key', 1),
      requestsRow('POST', '/api/v1/subnets', '201', 'daemon', 1),
      requestsRow('DELETE', '/api/v1/subnets/:id', '200', 'daemon', 1),
      requestsRow('POST', '/api/v1/services', '201', 'anonymous', 1),
      requestsRow('GET', '/api/v1/services', '200', 'anonymous', 1),
      requestsRow('GET', '/api/health', '200', 'anonymous', 1),
      requestsRow('POST', '/api/v1/services', '400', 'anonymous', 1),
    ]);
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'POST',
        path: '/api/v1/hosts',
      }),
    ).to.equal(3);
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        path: '/api/v1/hosts/:id',
      }),
    ).to.equal(2);
    expect(table(text, 'scanopy_events_total')).to.deep.equal([
      [{ entity: 'Host', operation: 'created' }, 3],
      [{ entity: 'Host', operation: 'updated' }, 1],
      [{ entity: 'Host', operation: 'deleted' }, 1],
      [{ entity: 'Network', operation: 'created' }, 1],
      [{ entity: 'Network', operation: 'updated' }, 1],
      [{ entity: 'Subnet', operation: 'created' }, 1],
      [{ entity: 'Subnet', operation: 'deleted' }, 1],
      [{ entity: 'Service', operation: 'created' }, 1],
    ]);
    expect(await checkMetrics(text)).to.deep.equal({ code: 0, output: '' });
    expect(errors).to.deep.equal([]);
    expect(logged).to.deep.equal([]);
  });

  it('counts a rejected credential as anonymous, with one auth event', async () => {
    const rejected = await call('bad_session', 'GET', '/api/v1/hosts');
    expect(rejected.status).to.equal(401);
    expect(rejected.envelope.success).to.equal(false);
    expect((await call('bad_api_key', 'POST', '/api/v1/hosts', { name: 'x' })).status).to.equal(
      401,
    );
    const text = await scrape(server.url, TOKEN);
    // Auth is router-level middleware that answers before the route runs: the 401 still carries
    // the pattern of the route that was matched.
    expect(table(text, 'http_requests_total')).to.deep.equal([
      [{ method: 'GET', path: '/api/v1/hosts', status: '401', entity_type: 'anonymous' }, 1],
      [{ method: 'POST', path: '/api/v1/hosts', status: '401', entity_type: 'anonymous' }, 1],
    ]);
    expect(table(text, 'scanopy_events_total')).to.deep.equal([
      [{ entity: 'auth', operation: 'login_failed' }, 1],
      [{ entity: 'auth', operation: 'api_key_auth_failed' }, 1],
    ]);
  });

  it('serves /metrics ahead of the service auth, and counts it', async () => {
    const refused = await fetch(`${server.url}/metrics`, {
      headers: { Authorization: `Bearer ${DEMO_USER_SESSION}` },
    });
    expect(refused.status).to.equal(401);
    expect(await refused.text()).to.equal('Invalid or missing token');
    await scrape(server.url, TOKEN);
    const text = await scrape(server.url, TOKEN);
    expect(table(text, 'http_requests_total')).to.deep.equal([
      [{ method: 'GET', path: '/metrics', status: '401', entity_type: 'anonymous' }, 1],
      [{ method: 'GET', path: '/metrics', status: '200', entity_type: 'anonymous' }, 1],
    ]);
    // The metrics token is not a session: the service's auth never saw it.
    expect(series(text, 'scanopy_events_total')).to.deep.equal([]);
  });

  it('counts a server error as 500 with the caller, and the error still reaches app.on("error")', async () => {
    const failed = await call('daemon', 'GET', '/api/v1/debug/error');
    expect(failed.status).to.equal(500);
    expect(failed.envelope.error).to.equal('Internal server error');
    const text = await scrape(server.url, TOKEN);
    expect(requestsTotal(text, 'GET', '/api/v1/debug/error', '500', 'daemon')).to.equal(1);
    expect(errors).to.have.length(1);
    expect((errors[0] as Error).message).to.equal('boom');
  });

  it('times the streamed debug body to its end', async () => {
    const response = await fetch(`${server.url}/api/v1/debug/stream`);
    expect(await response.text()).to.equal(STREAM_CHUNKS.join(''));
    const text = await scrape(server.url, TOKEN);
    const labels = { method: 'GET', path: '/api/v1/debug/stream' };
    // Five chunks about 10 ms apart: at least 40 ms, so never in the 5 ms or 10 ms buckets.
    expect(
      sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '0.01' }),
    ).to.equal(0);
    expect(
      sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
    ).to.equal(1);
  });
});
