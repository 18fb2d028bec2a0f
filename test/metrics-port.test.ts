// The metrics route on a port of its own (issue 10, item 3): SCANOPY_METRICS_PORT and _HOST,
// SCANOPY_METRICS_ON_SERVICE_PORT, SCANOPY_METRICS_PORT_PER_INSTANCE, with the same auth and
// route behaviour as on the service's port.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { requestsTotal, series } from './helpers/exposition';
import { rawRequest, type RawResponse } from './helpers/http';
import { TOKEN, scrapeChild } from './helpers/preloaded-service';
import { freePort, waitUntil } from './helpers/prometheus-server';

const AUTH = { Authorization: `Bearer ${TOKEN}` };

function get(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return rawRequest(url, { path, headers });
}

/** Waits until something accepts connections on the port (the listener opens with the first app). */
function listening(port: number): Promise<true> {
  return waitUntil(
    `a listener on port ${port}`,
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1' }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(undefined));
      }),
  );
}

describe('the metrics route on a port of its own (SCANOPY_METRICS_PORT)', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  const start = (env: Record<string, string>) =>
    children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
    });

  it('serves the route there, with the same auth, and leaves /metrics on the service port to the service', async () => {
    const port = await freePort();
    const service = await start({ SCANOPY_METRICS_PORT: String(port) });
    await listening(port);
    const metrics = `http://127.0.0.1:${port}`;

    await get(service.url, '/api/v1/hosts/1');
    await get(service.url, '/api/v1/hosts/2');

    const none = await get(metrics, '/metrics');
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Bearer');
    expect((await get(metrics, '/metrics', { Authorization: 'Bearer wrong' })).status).to.equal(
      401,
    );
    const post = await rawRequest(metrics, { method: 'POST', path: '/metrics', headers: AUTH });
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect((await get(metrics, '/other', AUTH)).status).to.equal(404);

    const text = await scrapeChild(metrics);
    expect(requestsTotal(text, 'GET', '/api/v1/hosts/:id', '200')).to.equal(2);
    // The service's port no longer answers the route: the path is the service's (its 404).
    const onService = await get(service.url, '/metrics', AUTH);
    expect(onService.status).to.equal(404);
    expect(onService.body).to.equal('Not Found');
    // Scrapes on the metrics port are not the service's requests; the one above is, and no
    // route of the service matched it.
    const again = await scrapeChild(metrics);
    const rows = series(again, 'http_requests_total').map((s) => [s.labels.path, s.value]);
    expect(rows).to.deep.equal([
      ['/api/v1/hosts/:id', 2],
      ['unmatched', 1],
    ]);
  });

  it('SCANOPY_METRICS_ON_SERVICE_PORT=true serves the route on both ports', async () => {
    const port = await freePort();
    const service = await start({
      SCANOPY_METRICS_PORT: String(port),
      SCANOPY_METRICS_ON_SERVICE_PORT: 'true',
    });
    await listening(port);
    await get(service.url, '/api/v1/hosts/1');
    const own = await scrapeChild(`http://127.0.0.1:${port}`);
    const shared = await scrapeChild(service.url);
    expect(requestsTotal(own, 'GET', '/api/v1/hosts/:id', '200')).to.equal(1);
    expect(requestsTotal(shared, 'GET', '/api/v1/hosts/:id', '200')).to.equal(1);
  });

  it('SCANOPY_METRICS_PORT_PER_INSTANCE=true adds NODE_APP_INSTANCE to the port', async () => {
    const base = await freePort();
    // The OS handed out `base`; base + 3 is checked free the same way before use.
    const service = await start({
      SCANOPY_METRICS_PORT: String(base - 3),
      SCANOPY_METRICS_PORT_PER_INSTANCE: 'true',
      NODE_APP_INSTANCE: '3',
    });
    await listening(base);
    await get(service.url, '/api/v1/hosts/1');
    const text = await scrapeChild(`http://127.0.0.1:${base}`);
    expect(requestsTotal(text, 'GET', '/api/v1/hosts/:id', '200')).to.equal(1);
  });

  it('a port already taken: one stderr line naming the variable, and the service runs', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const service = await start({ SCANOPY_METRICS_PORT: String(port) });
      expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
      const line = await waitUntil('the listener error line', () =>
        Promise.resolve(service.stderrLines().find((l) => l.includes('SCANOPY_METRICS_PORT'))),
      );
      expect(line).to.equal(
        `scanopy-metrics: SCANOPY_METRICS_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE); the metrics listener is off`,
      );
      expect((await get(service.url, '/api/v1/hosts/2')).status).to.equal(200);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a port set in otel-config.yaml that is taken: the line names the file key, not the variable', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const cwd = children.tempDir();
      writeFileSync(
        path.join(cwd, 'otel-config.yaml'),
        `file_format: '1.0'\nmeter_provider:\n  readers:\n    - pull:\n        exporter:\n          prometheus/development:\n            port: ${port}\n`,
      );
      const service = await children.start({
        fixture: fixture('service.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
        cwd,
      });
      expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
      const line = await waitUntil('the listener error line', () =>
        Promise.resolve(service.stderrLines().find((l) => l.includes('cannot listen'))),
      );
      expect(line).to.equal(
        `scanopy-metrics: meter_provider.readers[0].pull.exporter.prometheus/development.port: cannot listen on 127.0.0.1:${port} (EADDRINUSE); the metrics listener is off`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('bad values are named: SCANOPY_METRICS_PORT=70000, SCANOPY_METRICS_HOST without a port', async () => {
    const bad = await start({ SCANOPY_METRICS_PORT: '70000' });
    expect(bad.stderrLines()).to.deep.equal([
      'scanopy-metrics: SCANOPY_METRICS_PORT: expected a port number from 1 to 65535, got "70000"; the metrics route is disabled (404)',
    ]);
    const hostOnly = await start({ SCANOPY_METRICS_HOST: '0.0.0.0' });
    expect(hostOnly.stderrLines()).to.deep.equal([
      'scanopy-metrics: SCANOPY_METRICS_HOST: expected SCANOPY_METRICS_PORT to be set too; the metrics route is disabled (404)',
    ]);
  });
});
