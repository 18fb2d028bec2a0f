// A Koa app with the package wired by hand in front of whatever a test mounts, served on loopback.
import Koa from 'koa';
import { createMetrics } from 'scanopy-metrics';
import type { ScanopyMetrics, ScanopyMetricsOptions } from 'scanopy-metrics';

import { scrape } from './http';
import { listen } from './server';

export const TOKEN = 'test-token-7d41c9';

export interface MetricsApp {
  app: Koa;
  metrics: ScanopyMetrics;
  url: string;
  /**
   * The exposition, fetched through the app's own route with the first configured token (the
   * request is counted, and shows in the next scrape).
   */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/**
 * `createMetrics(options)`, then `app.use(metrics.middleware())`, `app.use(metrics.route())` and
 * whatever `mount` adds, as a service would wire it.
 */
export async function startMetricsApp(
  mount: (app: Koa) => void = () => undefined,
  options: ScanopyMetricsOptions = { token: TOKEN },
): Promise<MetricsApp> {
  const metrics = createMetrics(options);
  const app = new Koa();
  app.use(metrics.middleware());
  app.use(metrics.route());
  mount(app);
  const server = await listen(app);
  const tokens = typeof options.token === 'string' ? [options.token] : (options.token ?? []);
  const token = tokens.find((t) => t !== '') ?? TOKEN;
  return {
    app,
    metrics,
    url: server.url,
    scrape: () => scrape(server.url, token, options.path),
    close: async () => {
      await server.close();
      await metrics.shutdown();
    },
  };
}
