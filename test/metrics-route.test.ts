// The token-guarded /metrics route: 404 while disabled, 401 on every bad credential, 200 with the
// text, HEAD, 405, rotation and a custom path.
import { expect } from './helpers/chai';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

const SECRET = 'Zq8-secret-metrics-token';
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function get(server: MetricsApp, authorization?: string | string[], path = '/metrics') {
  const headers = authorization === undefined ? {} : { Authorization: authorization };
  return rawRequest(server.url, { path, headers });
}

/** Neither the body nor any header of the response holds the real token. */
function expectNoSecret(response: RawResponse): void {
  expect(response.body).to.not.contain(SECRET);
  expect(JSON.stringify(response.headers)).to.not.contain(SECRET);
}

describe('metrics route', () => {
  let server: MetricsApp;
  afterEach(async () => server.close());

  describe('without a token', () => {
    for (const [name, token] of [
      ['unset', undefined],
      ['empty', ''],
      ['an empty list', []],
      ['only empty strings', ['', '']],
    ] as const) {
      it(`answers 404 "Metrics not enabled" when the token is ${name}`, async () => {
        server = await startMetricsApp(undefined, { token });
        for (const authorization of [undefined, 'Bearer ', 'Bearer x']) {
          const response = await get(server, authorization);
          expect(response.status).to.equal(404);
          expect(response.body).to.equal('Metrics not enabled');
        }
      });
    }
  });

  describe('with a token', () => {
    beforeEach(async () => {
      server = await startMetricsApp(undefined, { token: SECRET });
    });

    const refused: [string, string | string[] | undefined][] = [
      ['no Authorization header', undefined],
      ['a Basic credential', 'Basic xyz'],
      ['Basic carrying the token', `Basic ${SECRET}`],
      ['a wrong token of the same length', `Bearer ${SECRET.slice(0, -1)}X`],
      ['a wrong token of another length', 'Bearer short'],
      ['the token with a suffix', `Bearer ${SECRET}x`],
      ['Bearer with no token', 'Bearer'],
      ['the bare token without scheme', SECRET],
      ['two Bearer tokens', `Bearer ${SECRET} ${SECRET}`],
    ];
    for (const [name, authorization] of refused) {
      it(`answers 401 to ${name}`, async () => {
        const response = await get(server, authorization);
        expect(response.status).to.equal(401);
        expect(response.body).to.equal('Invalid or missing token');
        expect(response.headers['www-authenticate']).to.equal('Bearer');
        expect(response.headers['cache-control']).to.equal('no-store');
        expectNoSecret(response);
      });
    }

    it('answers 401 to two Authorization headers, even both right', async () => {
      const response = await rawRequest(server.url, {
        path: '/metrics',
        headers: ['Authorization', `Bearer ${SECRET}`, 'Authorization', `Bearer ${SECRET}`],
      });
      expect(response.status).to.equal(401);
      expect(response.body).to.equal('Invalid or missing token');
      expect(response.headers['www-authenticate']).to.equal('Bearer');
      expectNoSecret(response);
    });

    it('answers 200 with the Prometheus text to the right token', async () => {
      const response = await get(server, `Bearer ${SECRET}`);
      expect(response.status).to.equal(200);
      expect(response.headers['content-type']).to.equal(CONTENT_TYPE);
      expect(response.headers['cache-control']).to.equal('no-store');
      expect(response.body).to.contain('# TYPE http_requests_total counter\n');
      expectNoSecret(response);
    });

    for (const scheme of ['bearer', 'BEARER']) {
      it(`accepts the scheme written ${scheme}`, async () => {
        const response = await get(server, `${scheme} ${SECRET}`);
        expect(response.status).to.equal(200);
        expect(response.body).to.contain('# TYPE scanopy_events_total counter\n');
      });
    }

    it('ignores the query string', async () => {
      const response = await get(server, `Bearer ${SECRET}`, '/metrics?format=x');
      expect(response.status).to.equal(200);
      expect(response.headers['content-type']).to.equal(CONTENT_TYPE);
    });

    it('answers HEAD like GET, without a body', async () => {
      const response = await rawRequest(server.url, {
        method: 'HEAD',
        path: '/metrics',
        headers: { Authorization: `Bearer ${SECRET}` },
      });
      expect(response.status).to.equal(200);
      expect(response.headers['content-type']).to.equal(CONTENT_TYPE);
      expect(response.headers['cache-control']).to.equal('no-store');
      expect(response.body).to.equal('');
    });

    it('answers 401 to HEAD without the token', async () => {
      const response = await rawRequest(server.url, { method: 'HEAD', path: '/metrics' });
      expect(response.status).to.equal(401);
      expect(response.headers['www-authenticate']).to.equal('Bearer');
      expect(response.body).to.equal('');
    });

    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      it(`answers ${method} with 405 and Allow: GET, HEAD`, async () => {
        const response = await rawRequest(server.url, {
          method,
          path: '/metrics',
          headers: { Authorization: `Bearer ${SECRET}` },
        });
        expect(response.status).to.equal(405);
        expect(response.headers.allow).to.equal('GET, HEAD');
        expectNoSecret(response);
      });
    }

    it('leaves other paths to the app', async () => {
      const response = await get(server, `Bearer ${SECRET}`, '/metrics/extra');
      expect(response.status).to.equal(404);
      expect(response.body).to.equal('Not Found');
    });
  });

  it('accepts each of several tokens', async () => {
    server = await startMetricsApp(undefined, { token: ['first-token', 'second'] });
    expect((await get(server, 'Bearer first-token')).status).to.equal(200);
    expect((await get(server, 'Bearer second')).status).to.equal(200);
    expect((await get(server, 'Bearer third')).status).to.equal(401);
  });

  it('rotates tokens with setTokens: the old one gets 401, the new one 200', async () => {
    server = await startMetricsApp(undefined, { token: 'old-token' });
    expect((await get(server, 'Bearer old-token')).status).to.equal(200);
    server.metrics.setTokens(['new-token']);
    expect((await get(server, 'Bearer old-token')).status).to.equal(401);
    expect((await get(server, 'Bearer new-token')).status).to.equal(200);
    server.metrics.setTokens(undefined);
    const disabled = await get(server, 'Bearer new-token');
    expect(disabled.status).to.equal(404);
    expect(disabled.body).to.equal('Metrics not enabled');
  });

  it('serves a custom path, and leaves /metrics to the app', async () => {
    server = await startMetricsApp(undefined, { token: SECRET, path: '/internal/prometheus' });
    const served = await get(server, `Bearer ${SECRET}`, '/internal/prometheus');
    expect(served.status).to.equal(200);
    expect(served.headers['content-type']).to.equal(CONTENT_TYPE);
    const other = await get(server, `Bearer ${SECRET}`, '/metrics');
    expect(other.status).to.equal(404);
    expect(other.body).to.equal('Not Found');
    const text = await server.scrape();
    const line = (path: string, status: number) =>
      `http_requests_total{method="GET",path="${path}",status="${status}",entity_type="anonymous"} 1\n`;
    expect(text).to.contain(line('/internal/prometheus', 200));
    expect(text).to.contain(line('unmatched', 404));
  });
});
