// Bounded label values of a request: method, route pattern, caller kind.
import type { Context } from 'koa';
import { CALLER_KINDS } from '../types';
import { KNOWN_METHODS, OTHER, OTHER_METHOD, UNMATCHED_PATH } from './vocabulary';

/**
 * Pure helpers that turn what a request carries into bounded label values.
 * Every function here maps an unbounded input onto a fixed, small set of outputs.
 */

export function foldMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
}

interface RouterContext {
  /** The layers @koa/router matched on the path: routes (with methods) and `use` middleware. */
  matched?: readonly { path: unknown; methods: readonly string[] }[];
  _matchedRoute?: unknown;
}

/**
 * The route pattern @koa/router matched (`/api/v1/hosts/:id`, prefixes and nested routers
 * included), never the raw URL. The last matched route layer is preferred to `_matchedRoute`,
 * which router-level middleware overwrites with its own pattern while it runs: an auth
 * middleware that answers 401 before the route runs still gets the route's pattern.
 */
export function routePattern(ctx: Context): string {
  const { matched, _matchedRoute } = ctx as RouterContext;
  if (matched !== undefined) {
    for (let i = matched.length - 1; i >= 0; i--) {
      const layer = matched[i];
      if (layer.methods.length > 0 && typeof layer.path === 'string') return layer.path;
    }
  }
  return typeof _matchedRoute === 'string' ? _matchedRoute : UNMATCHED_PATH;
}

const CALLERS: ReadonlySet<string> = new Set(CALLER_KINDS);

/** The caller kind the service's auth decided; absent means nobody authenticated. */
export function foldCallerKind(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'anonymous';
  return typeof value === 'string' && CALLERS.has(value) ? value : OTHER;
}
