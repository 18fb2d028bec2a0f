// The tests an unmodified Koa service must pass once preloaded, whatever its module system:
// preload.test.ts runs them on the CommonJS fixture with --require, preload-esm.test.ts on the
// ES-module one with --import.
import { expect } from './chai';
import { Children } from './child';
import type { ChildService } from './child';
import { eventsTotal, requestsTotal, sample, series } from './exposition';
import { rawRequest } from './http';
import type { RawResponse } from './http';

export const TOKEN = 'preload-token-5f0c2e';
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function get(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return rawRequest(url, { path, headers });
}

export function post(url: string, path: string): Promise<RawResponse> {
  return rawRequest(url, { method: 'POST', path });
}

/** No Authorization header, then the right token. */
export const WITHOUT_AND_WITH_TOKEN: readonly Record<string, string>[] = [
  {},
  { Authorization: `Bearer ${TOKEN}` },
];

/**
 * GETs the metrics route once with each of `headerSets`; each answer must be `status` with `body`.
 * Returns the answers, in order.
 */
export async function expectMetricsRouteAnswers(
  url: string,
  headerSets: readonly Record<string, string>[],
  status: number,
  body: string,
): Promise<RawResponse[]> {
  const responses: RawResponse[] = [];
  for (const headers of headerSets) {
    const response = await get(url, '/metrics', headers);
    expect(response.status).to.equal(status);
    expect(response.body).to.equal(body);
    responses.push(response);
  }
  return responses;
}

/** GET the metrics route with the token; fails the test unless it answers 200. */
export async function scrapeChild(url: string, token = TOKEN, path = '/metrics'): Promise<string> {
  const response = await get(url, path, { Authorization: `Bearer ${token}` });
  expect(response.status, `scrape of ${url}${path}: ${response.body}`).to.equal(200);
  return response.body;
}

const HOSTS = '/api/v1/hosts/:id';

export interface PreloadedServiceOptions {
  /** Absolute path of the fixture service. */
  fixture: string;
  /** How the preload is given to node (REQUIRE_PRELOAD, IMPORT_PRELOAD). */
  nodeArgs: readonly string[];
}

export function describePreloadedService(title: string, options: PreloadedServiceOptions): void {
  describe(title, () => {
    const children = new Children();
    afterEach(() => children.stopAll());

    const start = (env: Record<string, string> = {}, ports = 1): Promise<ChildService> =>
      children.start({ fixture: options.fixture, nodeArgs: options.nodeArgs, env, ports });

    it('answers 404 "Metrics not enabled" when no token is configured', async () => {
      const service = await start();
      await expectMetricsRouteAnswers(
        service.url,
        WITHOUT_AND_WITH_TOKEN,
        404,
        'Metrics not enabled',
      );
      expect(service.stderr()).to.equal('');
    });

    it('answers 401 without a token and with a wrong one, 200 with the right one', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      const refused = await expectMetricsRouteAnswers(
        service.url,
        [{}, { Authorization: 'Bearer wrong-token' }],
        401,
        'Invalid or missing token',
      );
      for (const response of refused) {
        expect(response.headers['www-authenticate']).to.equal('Bearer');
      }
      const response = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
      expect(response.status).to.equal(200);
      expect(response.headers['content-type']).to.equal(CONTENT_TYPE);
      expect(response.body).to.contain('# TYPE http_requests_total counter');
      expect(service.stderr()).to.equal('');
    });

    it('counts 3 GETs of /api/v1/hosts/1 under the route pattern, counter and histogram', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      for (let i = 0; i < 3; i++) {
        const response = await get(service.url, '/api/v1/hosts/1');
        expect(response.status).to.equal(200);
        expect(JSON.parse(response.body)).to.deep.equal({ app: 'app1', id: '1' });
      }
      const text = await scrapeChild(service.url);
      expect(requestsTotal(text, 'GET', HOSTS, '200')).to.equal(3);
      // Nothing else was served before this scrape (which is counted after it answers).
      expect(series(text, 'http_requests_total')).to.have.length(1);
      const labels = { method: 'GET', path: HOSTS };
      expect(sample(text, 'http_request_duration_seconds_count', labels)).to.equal(3);
      expect(
        sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
      ).to.equal(3);
    });

    it("labels requests with the caller kind the service's own middleware left in ctx.state", async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      await get(service.url, '/api/v1/hosts/7', { 'x-entity-type': 'daemon' });
      await get(service.url, '/api/v1/hosts/8', { 'x-entity-type': 'daemon' });
      await get(service.url, '/api/v1/hosts/9', { 'x-entity-type': 'user' });
      const text = await scrapeChild(service.url);
      expect(requestsTotal(text, 'GET', HOSTS, '200', 'daemon')).to.equal(2);
      expect(requestsTotal(text, 'GET', HOSTS, '200', 'user')).to.equal(1);
    });

    it("leaves the service's own answers alone: its 404 for an unknown path is untouched", async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      const response = await get(service.url, '/no/such/path');
      expect(response.status).to.equal(404);
      expect(response.body).to.equal('Not Found');
      const text = await scrapeChild(service.url);
      expect(requestsTotal(text, 'GET', 'unmatched', '404')).to.equal(1);
    });

    it('answers the scrape before a service middleware that rejects every request', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_REJECT_ALL: '1' });
      for (const path of ['/api/v1/hosts/1', '/health']) {
        const response = await get(service.url, path);
        expect(response.status).to.equal(403);
        expect(response.body).to.equal('Forbidden by the service');
      }
      const refused = await get(service.url, '/metrics');
      expect(refused.status).to.equal(401);
      const text = await scrapeChild(service.url);
      expect(requestsTotal(text, 'GET', 'unmatched', '403')).to.equal(2);
      expect(requestsTotal(text, 'GET', '/metrics', '401')).to.equal(1);
    });

    it('counts the events the service publishes on the scanopy:events channel, exactly', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      expect((await post(service.url, '/publish?n=5')).body).to.equal('{"published":5}');
      await post(service.url, '/publish?n=2&kind=auth&operation=login_success');
      await post(service.url, '/publish?n=1&entityType=Subnet&operation=deleted');
      const text = await scrapeChild(service.url);
      expect(eventsTotal(text, 'Host', 'created')).to.equal(5);
      expect(eventsTotal(text, 'auth', 'login_success')).to.equal(2);
      expect(eventsTotal(text, 'Subnet', 'deleted')).to.equal(1);
      expect(series(text, 'scanopy_events_total')).to.have.length(3);
    });

    it('counts two Koa apps of one process into one set of metrics, and both serve the route', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_APPS: '2' }, 2);
      const [first, second] = service.urls;
      expect(first).to.not.equal(second);
      expect(JSON.parse((await get(first, '/api/v1/hosts/1')).body)).to.deep.equal({
        app: 'app1',
        id: '1',
      });
      await get(first, '/api/v1/hosts/2');
      expect(JSON.parse((await get(second, '/api/v1/hosts/3')).body)).to.deep.equal({
        app: 'app2',
        id: '3',
      });
      await post(second, '/publish?n=4');

      const fromFirst = await scrapeChild(first);
      expect(requestsTotal(fromFirst, 'GET', HOSTS, '200')).to.equal(3);
      expect(eventsTotal(fromFirst, 'Host', 'created')).to.equal(4);
      const fromSecond = await scrapeChild(second);
      expect(requestsTotal(fromSecond, 'GET', HOSTS, '200')).to.equal(3);
      // The first app's scrape shows in the second app's exposition: one set of metrics.
      expect(requestsTotal(fromSecond, 'GET', '/metrics', '200')).to.equal(1);
      expect(eventsTotal(fromSecond, 'Host', 'created')).to.equal(4);
    });

    it('records without a step of its own in the middleware chain: the app runs its 5 middleware', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      // The auth middleware, then two routers' routes() and allowedMethods().
      expect(JSON.parse((await get(service.url, '/chain')).body)).to.deep.equal({ middleware: 5 });
      expect(JSON.parse((await get(service.url, '/chain')).body)).to.deep.equal({ middleware: 5 });
      expect(requestsTotal(await scrapeChild(service.url), 'GET', '/chain', '200')).to.equal(2);
    });

    it('keeps nothing alive: the service exits by itself once it closes its servers', async () => {
      const service = await start({ SCANOPY_METRICS_TOKEN: TOKEN });
      await scrapeChild(service.url);
      expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
      expect(service.stderr()).to.equal('');
    });
  });
}
