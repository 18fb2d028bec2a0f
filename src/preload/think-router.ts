// ThinkJS's router (think-router) leaves no pattern on the context: it turns each configured rule
// into a regular expression and keeps only that. This patch remembers which configured pattern
// each expression came from and, when a rule matches a request, leaves its pattern on the context
// for the path label. Requests the default router resolves (no configured rule) stay `unmatched`.
import { ROUTE_PATTERN } from '../labels/http-labels';

/** The module, its file that holds the Router class, and the versions patched. */
export const THINK_ROUTER = {
  name: 'think-router',
  file: 'think-router/router.js',
  versions: '>=1.0.0 <2',
} as const;

/** The configured pattern (`/post/:id`, or a RegExp written as such) of each formatted rule. */
const patterns = new WeakMap<RegExp, string>();

/** A configured rule tree, before think-router formats it: the pattern of each rule, in order. */
type PatternTree = PatternList | { [module: string]: PatternTree };
type PatternList = (string | RegExp | PatternTree | undefined)[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Rules are `[pattern, path, method, options]` arrays, groups `{ match, rules }`, or, with
 * modules, an object of groups by module name.
 */
function patternTree(rules: unknown): PatternTree | undefined {
  if (Array.isArray(rules)) {
    return rules.map((rule: unknown) => {
      if (Array.isArray(rule)) {
        const pattern: unknown = rule[0];
        return typeof pattern === 'string' || pattern instanceof RegExp ? pattern : undefined;
      }
      return isRecord(rule) ? patternTree(rule.rules) : undefined;
    });
  }
  if (!isRecord(rules)) return undefined;
  const tree: Record<string, PatternTree> = {};
  for (const [name, group] of Object.entries(rules)) {
    const inner = isRecord(group) ? patternTree(group.rules) : undefined;
    if (inner) tree[name] = inner;
  }
  return tree;
}

/** Walks the formatted rules along the tree taken before formatting. */
function remember(formatted: unknown, tree: PatternTree | undefined): void {
  if (tree === undefined) return;
  if (Array.isArray(formatted) && Array.isArray(tree)) {
    formatted.forEach((rule: unknown, i) => {
      const pattern = tree[i];
      if (!isRecord(rule)) return;
      if (typeof pattern === 'string' || pattern instanceof RegExp) {
        if (rule.match instanceof RegExp) patterns.set(rule.match, String(pattern));
      } else if (pattern !== undefined) {
        remember(rule.rules, pattern);
      }
    });
  } else if (isRecord(formatted) && !Array.isArray(tree)) {
    for (const [name, group] of Object.entries(formatted)) {
      if (isRecord(group)) remember(group.rules, tree[name]);
    }
  }
}

interface ThinkApp {
  routers?: unknown;
  on(event: string, listener: (routers: unknown) => void): unknown;
  once(event: string, listener: () => void): unknown;
}

export type ParseRouter = (options: unknown, app: ThinkApp) => unknown;

/**
 * think-router formats `app.routers` on `appReady` and again on `routerChange`, in listeners it
 * adds when its middleware is created: one listener added before its own takes the configured
 * patterns, one added after maps them onto the formatted rules.
 */
export function wrapParseRouter(original: ParseRouter, isEnabled: () => boolean): ParseRouter {
  return function parseRouter(this: unknown, options: unknown, app: ThinkApp) {
    if (!isEnabled() || typeof app?.on !== 'function' || typeof app.once !== 'function') {
      return original.call(this, options, app);
    }
    let tree: PatternTree | undefined;
    app.on('routerChange', (routers) => (tree = patternTree(routers)));
    app.once('appReady', () => (tree = patternTree(app.routers)));
    const middleware = original.call(this, options, app);
    app.on('routerChange', () => remember(app.routers, tree));
    app.once('appReady', () => remember(app.routers, tree));
    return middleware;
  };
}

interface ThinkRouter {
  ctx: Record<symbol, unknown>;
}

type GetMatchedRule = (this: ThinkRouter, rules: unknown) => unknown;

const ORIGINAL = Symbol('scanopy-metrics.original');

export function patchRouterClass(exports: unknown): void {
  const proto = (exports as { prototype?: Record<string | symbol, unknown> } | null)?.prototype;
  const original = proto?.getMatchedRule;
  if (!proto || typeof original !== 'function' || proto[ORIGINAL]) return;
  proto[ORIGINAL] = original;
  proto.getMatchedRule = function getMatchedRule(this: ThinkRouter, rules: unknown) {
    const rule = (original as GetMatchedRule).call(this, rules);
    const match = isRecord(rule) ? rule.match : undefined;
    const pattern = match instanceof RegExp ? patterns.get(match) : undefined;
    if (pattern !== undefined && isRecord(this.ctx)) this.ctx[ROUTE_PATTERN] = pattern;
    return rule;
  };
}

export function unpatchRouterClass(exports: unknown): void {
  const proto = (exports as { prototype?: Record<string | symbol, unknown> } | null)?.prototype;
  if (!proto?.[ORIGINAL]) return;
  proto.getMatchedRule = proto[ORIGINAL];
  delete proto[ORIGINAL];
}
