// Serves a Koa app over real HTTP on loopback for the duration of a test.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type Koa from 'koa';

export interface ListeningServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  url: string;
  port: number;
  /** Stops listening and ends every open connection, including idle keep-alive ones. */
  close(): Promise<void>;
}

export async function listen(app: Koa): Promise<ListeningServer> {
  const server = await new Promise<http.Server>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      listening.off('error', reject);
      resolve(listening);
    });
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
