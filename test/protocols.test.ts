// HTTP/2 (cleartext and over TLS, with HTTP/1.1 allowed beside it), HTTPS and HTTP/1.0: requests
// are recorded and the metrics route answers exactly as over HTTP/1.1, on real node:http2,
// node:https and node:http servers, and nothing reaches the service's app.on('error').
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import Router from '@koa/router';
import Koa from 'koa';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { makeTempDir, removeTempDir } from './helpers/child';
import { requestsTotal, sample } from './helpers/exposition';
import { h2Request, http10Request, httpsRequest, makeCertificate } from './helpers/protocols';
import type { Answer, TestCertificate } from './helpers/protocols';

const TOKEN = 'protocols-token-3e9a7c51';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type AnyServer = http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer;

interface Served {
  metrics: ScanopyMetrics;
  origin: string;
  port: number;
  appErrors: unknown[];
  close(): Promise<void>;
}

/** The package wired by hand, then a service route that marks its caller kind. */
function serviceApp(metrics: ScanopyMetrics, appErrors: unknown[]): Koa {
  const app = new Koa();
  app.use(metrics.middleware());
  app.use(metrics.route());
  const router = new Router();
  router.get('/api/v1/hosts', (ctx) => {
    ctx.state.entityType = 'user';
    ctx.body = { hosts: [] };
  });
  app.use(router.routes());
  app.on('error', (error: unknown) => appErrors.push(error));
  return app;
}

async function serve(
  make: (callback: ReturnType<Koa['callback']>) => AnyServer,
  scheme: 'http' | 'https',
): Promise<Served> {
  const metrics = createMetrics({ token: TOKEN });
  const appErrors: unknown[] = [];
  const server = make(serviceApp(metrics, appErrors).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (session: http2.Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    metrics,
    origin: `${scheme}://127.0.0.1:${port}`,
    port,
    appErrors,
    close: async () => {
      for (const session of sessions) session.destroy();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metrics.shutdown();
    },
  };
}

function expectExposition(answer: Answer): void {
  expect(answer.status, answer.body).to.equal(200);
  expect(answer.headers['content-type']).to.equal(CONTENT_TYPE);
  expect(answer.headers['cache-control']).to.equal('no-store');
  expect(answer.body).to.contain('# TYPE http_requests_total counter\n');
}

function expectRefused(answer: Answer): void {
  expect(answer.status).to.equal(401);
  expect(answer.body).to.equal('Invalid or missing token');
  expect(answer.headers['www-authenticate']).to.equal('Bearer');
}

describe('protocols: HTTP/2, HTTPS and HTTP/1.0', function () {
  this.timeout(30_000);
  let dir: string;
  let tls: TestCertificate;
  const running: Served[] = [];

  before(() => {
    dir = makeTempDir();
    tls = makeCertificate(dir);
  });
  after(() => removeTempDir(dir));
  afterEach(async () => {
    for (const served of running.splice(0)) await served.close();
  });

  async function start(
    make: (callback: ReturnType<Koa['callback']>) => AnyServer,
    scheme: 'http' | 'https',
  ): Promise<Served> {
    const served = await serve(make, scheme);
    running.push(served);
    return served;
  }

  /** The same sequence over any client: 3 service requests, 2 refused scrapes, 1 405, 1 scrape. */
  async function exercise(
    send: (request: {
      method?: string;
      path: string;
      headers?: Record<string, string>;
    }) => Promise<Answer>,
    served: Served,
  ): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const answer = await send({ path: '/api/v1/hosts' });
      expect(answer.status).to.equal(200);
      expect(JSON.parse(answer.body)).to.deep.equal({ hosts: [] });
    }
    expectRefused(await send({ path: '/metrics' }));
    expectRefused(await send({ path: '/metrics', headers: { authorization: 'Bearer wrong' } }));
    const post = await send({ method: 'POST', path: '/metrics', headers: AUTH });
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expectExposition(await send({ path: '/metrics', headers: AUTH }));

    const text = await served.metrics.scrape();
    expect(requestsTotal(text, 'GET', '/api/v1/hosts', '200', 'user')).to.equal(3);
    expect(requestsTotal(text, 'GET', '/metrics', '401', 'anonymous')).to.equal(2);
    expect(requestsTotal(text, 'POST', '/metrics', '405', 'anonymous')).to.equal(1);
    expect(requestsTotal(text, 'GET', '/metrics', '200', 'anonymous')).to.equal(1);
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        path: '/api/v1/hosts',
      }),
    ).to.equal(3);
    expect(served.appErrors).to.deep.equal([]);
  }

  it('HTTP/2 cleartext (http2.createServer(app.callback())): recorded, route answers 401/405/200', async () => {
    const served = await start(
      (callback) => http2.createServer((req, res) => void callback(req, res)),
      'http',
    );
    await exercise((request) => h2Request(served.origin, request), served);
  });

  it('HTTP/2 over TLS (createSecureServer with allowHTTP1): both h2 and HTTPS/1.1 clients', async () => {
    const served = await start(
      (callback) =>
        http2.createSecureServer(
          { ...tls, allowHTTP1: true },
          (req, res) => void callback(req, res),
        ),
      'https',
    );
    await exercise((request) => h2Request(served.origin, { ...request, ca: tls.cert }), served);
    // HTTP/1.1 over the same TLS port: counted into the same series.
    const answer = await httpsRequest(served.origin, {
      path: '/metrics',
      headers: AUTH,
      ca: tls.cert,
    });
    expectExposition(answer);
    expect(requestsTotal(answer.body, 'GET', '/metrics', '200', 'anonymous')).to.equal(1);
    const text = await served.metrics.scrape();
    expect(requestsTotal(text, 'GET', '/metrics', '200', 'anonymous')).to.equal(2);
    expect(served.appErrors).to.deep.equal([]);
  });

  it('HTTPS (https.createServer): recorded, route answers 401/405/200', async () => {
    const served = await start(
      (callback) => https.createServer(tls, (req, res) => void callback(req, res)),
      'https',
    );
    await exercise((request) => httpsRequest(served.origin, { ...request, ca: tls.cert }), served);
  });

  it('HTTP/1.0 without Host or keep-alive: recorded, route answers 401/405/200', async () => {
    const served = await start(
      (callback) => http.createServer((req, res) => void callback(req, res)),
      'http',
    );
    await exercise(({ method, path, headers }) => {
      const lines = [`${method ?? 'GET'} ${path} HTTP/1.0`];
      for (const [name, value] of Object.entries(headers ?? {})) lines.push(`${name}: ${value}`);
      return http10Request(served.port, lines);
    }, served);
  });

  it('HTTP/2: the right token in another case of scheme and with several spaces opens the route', async () => {
    const served = await start(
      (callback) => http2.createServer((req, res) => void callback(req, res)),
      'http',
    );
    expectExposition(
      await h2Request(served.origin, {
        path: '/metrics',
        headers: { authorization: `bEARER   ${TOKEN}` },
      }),
    );
    expectRefused(
      await h2Request(served.origin, {
        path: '/metrics',
        headers: { authorization: `Basic ${TOKEN}` },
      }),
    );
    expect(served.appErrors).to.deep.equal([]);
  });
});
