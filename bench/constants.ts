// Names and paths shared by the orchestrator and its children.
import path from 'node:path';

/** The repository root: this file runs from build/bench/. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The preload exactly as a service starts it (`node --require scanopy-metrics/register`). */
export const REGISTER_PATH = path.join(REPO_ROOT, 'dist', 'preload', 'register.js');

/** Bearer token of the metrics route in every benchmark server. */
export const BENCH_TOKEN = 'bench-token-5f2c8a';

/** The route every server variant serves its metrics on. */
export const METRICS_PATH = '/metrics';

/** Core of the measured server (and of the in-process benchmark children). */
export const SERVER_CPU = 0;
/** Core of the load generator and of the orchestrator, which mostly sleeps. */
export const LOAD_CPU = 1;

/** Prometheus's default histogram buckets (prom-client's defaults too), in seconds. */
export const PROMETHEUS_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The label set `i` of the scrape and memory benchmarks: a distinct route path each. */
export function labelSetPath(i: number): string {
  return `/r/${i}/:id`;
}

/** Routes of the memory benchmark's service-shaped label sets. */
export const ROUTES = 500;
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** Status and caller kind together: what a route answers, and to whom. */
const ROUTE_OUTCOMES = [
  ['200', 'user'],
  ['200', 'api_key'],
  ['404', 'user'],
  ['401', 'anonymous'],
  ['500', 'daemon'],
] as const;

/**
 * Label set `i` of a service of ROUTES routes (`/api/v1/r<n>/:id`): the routes in turn, each with
 * 4 methods × 5 outcomes, so 10,000 label sets are 20 per route, and 2,000 (method, path) pairs
 * for the duration histogram. `[method, path, status, entity_type]`.
 */
export function routeLabelSet(i: number): [string, string, string, string] {
  const route = i % ROUTES;
  const combination = Math.floor(i / ROUTES);
  const [status, caller] = ROUTE_OUTCOMES[Math.floor(combination / 4) % ROUTE_OUTCOMES.length];
  return [ROUTE_METHODS[combination % 4], `/api/v1/r${route}/:id`, status, caller];
}

/** Goal 2: no block of the event loop longer than this during a scrape, in ms. */
export const BLOCK_LIMIT_MS = 20;
