// Runs the reference service as a process, configured like Scanopy from SCANOPY_* variables.
// Start it with `node --require scanopy-metrics/register build/reference-service/server.js` to get
// metrics without any change here.
import type { AddressInfo } from 'node:net';

import { createApp } from './app';

export const DEFAULT_PORT = 60072;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServerConfig {
  host: string;
  port: number;
}

/** Reads the configuration; throws an Error whose message names the offending variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const rawPort = env.SCANOPY_SERVER_PORT;
  const port = rawPort === undefined || rawPort === '' ? DEFAULT_PORT : Number(rawPort);
  // Digits only: Number() alone would also accept ' 80', '0x50' and '1e3'.
  if (rawPort && (!/^\d+$/.test(rawPort) || port > 65535)) {
    throw new Error(
      `SCANOPY_SERVER_PORT must be an integer from 0 to 65535, got ${JSON.stringify(rawPort)}`,
    );
  }
  return { host: env.SCANOPY_SERVER_HOST || DEFAULT_HOST, port };
}

function main(): void {
  let config: ServerConfig;
  try {
    config = readConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }

  const { app } = createApp();
  const server = app.listen(config.port, config.host, () => {
    // The actual address, so that port 0 reports the port the OS chose (tests parse this line).
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    console.log(`scanopy reference service listening on http://${host}:${port}`);
  });
  server.on('error', (error) => {
    console.error(`scanopy reference service failed to listen: ${error.message}`);
    process.exit(1);
  });

  const shutdown = () => {
    server.close(() => process.exit(0));
    // close() waits for open connections; end them so shutdown is immediate.
    server.closeAllConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) main();
