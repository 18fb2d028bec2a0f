// A loopback port that was free a moment ago: for programs that cannot listen on port 0 and
// report the port they got (Prometheus). The caller retries when it was taken in the meantime.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
