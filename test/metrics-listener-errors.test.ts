// The metrics port's server after it listens: Node emits 'error' on a listening server each time
// accepting a connection fails (EMFILE or ENFILE when the service runs out of descriptors, ENOBUFS,
// ENOMEM). An 'error' with no listener throws, so such a failure must neither crash the service
// nor close the listener; it is said once on stderr.
import type { Middleware } from 'koa';
import { expect } from './helpers/chai';
import { rawRequest } from './helpers/http';
import { startMetricsListener, type MetricsListener } from '../src/listener/metrics-listener';

/** What Node's net.Server emits when accept(2) fails: an ErrnoException with syscall 'accept'. */
function acceptError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, errno: -24, syscall: 'accept' });
}

const route: Middleware = (ctx, next) => {
  if (ctx.path !== '/metrics') return next();
  ctx.body = 'answered\n';
};

describe('the metrics port after a failed accept', () => {
  let listener: MetricsListener | undefined;
  afterEach(() => listener?.close());

  it('keeps listening and answering, and says so once on stderr', async () => {
    const lines: string[] = [];
    listener = startMetricsListener(
      route,
      { port: 0, host: '127.0.0.1', exclusive: false, setting: 'SCANOPY_METRICS_PORT' },
      (line) => lines.push(line),
    );
    const port = await listener.listening;
    expect(port).to.be.a('number');

    expect(() => listener!.server.emit('error', acceptError('EMFILE'))).not.to.throw();
    expect(() => listener!.server.emit('error', acceptError('ENFILE'))).not.to.throw();
    expect(() => listener!.server.emit('error', acceptError('EMFILE'))).not.to.throw();

    expect(lines).to.deep.equal([
      `scanopy-metrics: the metrics listener on 127.0.0.1:${port} failed to accept a connection (EMFILE); it goes on listening`,
    ]);
    expect(listener.server.listening).to.equal(true);
    const answer = await rawRequest(`http://127.0.0.1:${port}`, { path: '/metrics' });
    expect([answer.status, answer.body]).to.deep.equal([200, 'answered\n']);
  });

  it('reports a port it cannot open in one line and resolves undefined', async () => {
    const lines: string[] = [];
    const first = startMetricsListener(
      route,
      { port: 0, host: '127.0.0.1', exclusive: true, setting: 'SCANOPY_METRICS_PORT' },
      () => undefined,
    );
    const port = await first.listening;
    try {
      listener = startMetricsListener(
        route,
        { port: port!, host: '127.0.0.1', exclusive: true, setting: 'SCANOPY_METRICS_PORT' },
        (line) => lines.push(line),
      );
      expect(await listener.listening).to.equal(undefined);
      expect(lines).to.deep.equal([
        `scanopy-metrics: SCANOPY_METRICS_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE); the metrics listener is off`,
      ]);
    } finally {
      await first.close();
    }
  });
});
