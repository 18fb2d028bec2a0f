// The usual prom-client setup: its own registry, a counter and a histogram with the same names,
// labels and buckets as the package's.
import { Counter, Histogram, Registry } from 'prom-client';
import { PROMETHEUS_BUCKETS } from '../constants';
import { recordingMiddleware } from './middleware';
import type { Subject, SubjectFactory } from './types';

export const createSubject: SubjectFactory = (): Subject => {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Total number of HTTP requests',
    labelNames: ['method', 'path', 'status', 'entity_type'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['method', 'path'],
    buckets: [...PROMETHEUS_BUCKETS],
    registers: [registry],
  });
  const subject: Subject = {
    name: 'prom-client',
    recordRequest: (method, path, status, entityType, seconds) => {
      requests.inc({ method, path, status, entity_type: entityType });
      duration.observe({ method, path }, seconds);
    },
    scrape: () => registry.metrics(),
    middleware: () => recordingMiddleware(subject),
    shutdown: () => Promise.resolve(registry.clear()),
  };
  return subject;
};
