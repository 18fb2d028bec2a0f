// Bounded label values of a request: method, route pattern, caller kind.
import { CALLER_KINDS, type KoaContext } from '../types';
import { KNOWN_METHODS, OTHER, OTHER_METHOD, UNMATCHED_PATH } from './vocabulary';

/**
 * Pure helpers that turn what a request carries into bounded label values.
 * Every function here maps an unbounded input onto a fixed, small set of outputs.
 */

/**
 * The last value folded and its label: a service's requests mostly carry the same method (and
 * caller kind) one after another, and the strings Node's parser hands out for methods are the
 * same objects each time, so a comparison replaces most Set lookups.
 */
let lastMethod = '';
let lastMethodLabel = OTHER_METHOD;

export function foldMethod(method: string): string {
  if (method === lastMethod) return lastMethodLabel;
  const label = KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
  lastMethod = method;
  lastMethodLabel = label;
  return label;
}

/**
 * Where a router patched by the preload (ThinkJS's think-router) leaves the pattern of the rule
 * that matched, when it leaves none of its own.
 */
export const ROUTE_PATTERN = Symbol.for('scanopy-metrics.route-pattern');

interface RouterContext {
  /**
   * The layers the routers matched on the path, in the order they run: routes (with methods)
   * and `use` middleware. @koa/router 8 to 15, koa-router and Egg's router all leave it.
   */
  matched?: readonly { path: unknown; methods: readonly string[] }[];
  _matchedRoute?: unknown;
  /** The router that dispatched last; an exclusive one runs a single layer. */
  router?: { exclusive?: unknown };
  [ROUTE_PATTERN]?: unknown;
}

/**
 * The pattern of the route that served the request (`/api/v1/hosts/:id`, prefixes and nested
 * routers included), never the raw URL. Of the layers matched on the path, the first route whose
 * methods include the request's is the first to run; it is also the one that would have run when
 * router-level middleware (auth) answered before any route did. `_matchedRoute` cannot tell:
 * @koa/router 8 sets it to the last matching route before any runs, later versions to whatever
 * layer runs, middleware included. An exclusive router runs one layer only, the one it names in
 * `_matchedRoute`. No route allows the method (405): the first route on the path.
 */
export function routePattern(ctx: KoaContext, method: string = ctx.method): string {
  const c = ctx as RouterContext;
  const matched = c.matched;
  if (matched === undefined) {
    // No koa router ran: a patched router may have left its pattern.
    const patched = c[ROUTE_PATTERN];
    if (typeof patched === 'string') return patched;
  } else if (matched.length > 0) {
    let onPath: unknown;
    for (let i = 0; i < matched.length; i++) {
      const layer = matched[i];
      const methods = layer.methods;
      if (methods.length === 0) continue;
      if (hasMethod(methods, method)) {
        const named = c._matchedRoute;
        // Usually the route that ran named itself; otherwise, an exclusive router ran another.
        if (named !== layer.path && c.router?.exclusive === true && typeof named === 'string') {
          return named;
        }
        return typeof layer.path === 'string' ? layer.path : UNMATCHED_PATH;
      }
      onPath ??= layer.path;
    }
    if (typeof onPath === 'string') return onPath;
  }
  return typeof c._matchedRoute === 'string' ? c._matchedRoute : UNMATCHED_PATH;
}

/**
 * Whether a route's methods include `method`: a loop the compiler inlines, where
 * `Array.prototype.indexOf` is a builtin call on every request.
 */
function hasMethod(methods: readonly string[], method: string): boolean {
  for (let i = 0; i < methods.length; i++) if (methods[i] === method) return true;
  return false;
}

const CALLERS: ReadonlySet<string> = new Set(CALLER_KINDS);

let lastCaller = '';
let lastCallerLabel = 'anonymous';

/** The caller kind the service's auth decided; absent means nobody authenticated. */
export function foldCallerKind(value: unknown): string {
  if (value === lastCaller) return lastCallerLabel;
  if (value === undefined || value === null || value === '') return 'anonymous';
  if (typeof value !== 'string') return OTHER;
  const label = CALLERS.has(value) ? value : OTHER;
  lastCaller = value;
  lastCallerLabel = label;
  return label;
}
