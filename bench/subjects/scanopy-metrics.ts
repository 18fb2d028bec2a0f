// The package wired by hand (`createMetrics`), for the in-process, memory and event-loop
// benchmarks. The hot path does not use this: it starts the server with the real preload.
import { createMetrics } from 'scanopy-metrics';
import { compress } from '../../src/exposition/compress';
import { OPENMETRICS_TEXT } from '../../src/exposition/format';
import type { Subject, SubjectFactory } from './types';

export const createSubject: SubjectFactory = (options): Subject => {
  const metrics = createMetrics({
    token: options.token,
    cardinalityLimit: options.cardinalityLimit,
  });
  const instruments = metrics.pipeline.instruments;
  return {
    name: 'scanopy-metrics',
    // Straight into the package's instruments: the labels given are already folded values.
    recordRequest: (method, path, status, entityType, seconds) =>
      instruments.recordRequest(method, path, status, entityType, seconds),
    scrape: () => metrics.scrape(),
    // The route's 200 to Prometheus: the OpenMetrics exposition, then gzip on the thread pool.
    scrapeCompressed: async () => {
      const exposition = await metrics.pipeline.scrape(OPENMETRICS_TEXT);
      try {
        // A Buffer at run time; the public type names only what callers read of it.
        const gzipped = await compress(exposition.bytes as Buffer, 'gzip');
        return { bytes: gzipped.length, uncompressed: exposition.bytes.length };
      } finally {
        exposition.release();
      }
    },
    // What the preload puts first in every Koa app.
    middleware: () => metrics.firstMiddleware(),
    shutdown: () => metrics.shutdown(),
  };
};
