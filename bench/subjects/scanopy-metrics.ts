// The package wired by hand (`createMetrics`), for the in-process, memory and event-loop
// benchmarks. The hot path does not use this: it starts the server with the real preload.
import { createMetrics } from 'scanopy-metrics';
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
    // What the preload puts first in every Koa app.
    middleware: () => metrics.firstMiddleware(),
    shutdown: () => metrics.shutdown(),
  };
};
