// The metrics route on a port of its own (SCANOPY_METRICS_PORT).
import http from 'node:http';
import Koa from 'koa';
import { PACKAGE_NAME } from '../version';

/** Marks an app the preload must leave alone (see the koa instrumentation). */
const INSTRUMENTED = Symbol.for(`${PACKAGE_NAME}.instrumented`);

export interface MetricsListenerOptions {
  port: number;
  host: string;
  /**
   * Bind the port in this process even in a cluster worker, instead of sharing one port between
   * the workers through the primary (per-worker ports).
   */
  exclusive: boolean;
  /** Names the setting in the line logged when the port cannot be opened. */
  setting: string;
  /**
   * Called with the server before it listens: the preload marks it as the package's own, so
   * that its answers are not taken for the service's (the "nothing instrumented" report).
   */
  own?: (server: http.Server) => void;
}

export interface MetricsListener {
  server: http.Server;
  /** Resolves with the port once listening, or undefined if it could not listen. */
  listening: Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * The metrics route on a port of its own, as a small Koa app of the package's (that the koa
 * instrumentation skips, so its scrapes are not counted as the service's requests). Any other
 * path answers 404. A port that cannot be opened is reported in one line on stderr and leaves the
 * service running. The server is unref'd: it keeps no process alive.
 */
export function startMetricsListener(
  route: Koa.Middleware,
  options: MetricsListenerOptions,
  stderr: (line: string) => void,
): MetricsListener {
  const app = new Koa();
  Object.defineProperty(app, INSTRUMENTED, { value: true });
  app.silent = true;
  app.use(route);
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = 'Not found';
  });
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  options.own?.(server);
  let boundPort: number | undefined;
  let reportedAcceptError = false;
  const listening = new Promise<number | undefined>((resolve) => {
    // On for good, not once: a listening server emits 'error' again whenever accepting a
    // connection fails (EMFILE under load), and an 'error' without a listener would throw and
    // take the service down.
    server.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code ?? error.message;
      if (boundPort === undefined) {
        stderr(
          `${PACKAGE_NAME}: ${options.setting}: cannot listen on ${options.host}:${options.port} (${reason}); the metrics listener is off`,
        );
        resolve(undefined);
      } else if (!reportedAcceptError) {
        reportedAcceptError = true;
        stderr(
          `${PACKAGE_NAME}: the metrics listener on ${options.host}:${boundPort} failed to accept a connection (${reason}); it goes on listening`,
        );
      }
    });
    server.listen({ port: options.port, host: options.host, exclusive: options.exclusive }, () => {
      const address = server.address();
      boundPort = typeof address === 'object' && address !== null ? address.port : options.port;
      resolve(boundPort);
    });
  });
  server.unref();
  return {
    server,
    listening,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
