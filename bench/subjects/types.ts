// One metrics library under test, reduced to what the benchmarks need: record a request's two
// metrics, produce the exposition text, and a Koa middleware that does both for a service.
import type { Middleware } from 'koa';

export const SUBJECT_NAMES = ['scanopy-metrics', 'prom-client', 'otel-sdk'] as const;
export type SubjectName = (typeof SUBJECT_NAMES)[number];

export interface SubjectOptions {
  /** Series per metric before an overflow series; high enough that 10,000 label sets fit. */
  cardinalityLimit?: number;
  /** Bearer token of the metrics route (only scanopy-metrics checks one). */
  token: string;
}

export interface Subject {
  readonly name: SubjectName;
  /** `http_requests_total` += 1 and `http_request_duration_seconds` observes `seconds`. */
  recordRequest(
    method: string,
    path: string,
    status: string,
    entityType: string,
    seconds: number,
  ): void;
  /** The Prometheus text, as the library's own scrape path produces it. */
  scrape(): Promise<string>;
  /**
   * What the route sends Prometheus (OpenMetrics, gzipped off the main thread): its size in
   * bytes, and the uncompressed size. Only scanopy-metrics negotiates and compresses.
   */
  scrapeCompressed?(): Promise<{ bytes: number; uncompressed: number }>;
  /** Put first in a Koa app: records every request and answers GET /metrics. */
  middleware(): Middleware;
  shutdown(): Promise<void>;
}

export type SubjectFactory = (options: SubjectOptions) => Subject;
