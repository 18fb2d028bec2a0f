// What the preload does to a Koa Application class (koa, or Egg 4's fork @eggjs/koa): wrap its
// `callback()` and `handleRequest()` so that every request of every application is recorded
// first, before its own middleware. Free of any
// module-loading hook, so that both the preload's own hooks and the OpenTelemetry
// instrumentation class share it.
import type { KoaMiddleware, RequestStart } from '../types';

/** A module whose Application class is patched. */
export interface KoaModule {
  name: string;
  /** The major versions patched, as `>=A.0.0 <B`. */
  versions: string;
  /**
   * Set for a module that ships an ES-module build of its own, which only an ES-module loader
   * hook can patch (koa's ES entry point imports its CommonJS build, which require()'s loader
   * loads): the framework that depends on it, through which it is found when it is not
   * installed where the service starts (pnpm).
   */
  esModuleBuild?: { framework: string };
}

/**
 * The modules whose Application class is patched, with the major versions: koa itself and
 * `@eggjs/koa`, the fork Egg 4 runs on (same class, same `callback()`). The ES-module hook of
 * `--import` is limited to these names.
 */
export const KOA_MODULES: readonly KoaModule[] = [
  { name: 'koa', versions: '>=2.0.0 <4' },
  { name: '@eggjs/koa', versions: '>=2.0.0 <4', esModuleBuild: { framework: 'egg' } },
];

/**
 * What the patch uses of a Koa application, structurally: the package's declarations name no
 * koa type, so that a consumer needs no @types/koa.
 */
export interface KoaApplication {
  middleware: unknown[];
  callback(this: KoaApplication): unknown;
  handleRequest?(this: KoaApplication, ctx: unknown, fnMiddleware: unknown): unknown;
}

export type KoaClass = { prototype: KoaApplication };

const INSTRUMENTED = Symbol.for('scanopy-metrics.instrumented');

/** The Application class, whether the module was required (CommonJS) or imported (ES module). */
export function applicationClass(exports: unknown): KoaClass | undefined {
  const candidate: unknown =
    typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
  if (typeof candidate !== 'function') return undefined;
  const proto = (candidate as { prototype?: { callback?: unknown } }).prototype;
  return typeof proto?.callback === 'function' ? candidate : undefined;
}

export interface PatchTarget {
  isEnabled(): boolean;
  /**
   * Run at the start of each request of an instrumented application, in Koa's `handleRequest`:
   * the preload's way, which costs the hot path no step of the middleware chain.
   */
  requestStart?: RequestStart;
  /** Put first in the application's middleware instead (without `requestStart`). */
  middleware?(): KoaMiddleware;
  /** Called for each application that gets the middleware. */
  instrumented(): void;
}

/** A method of the Application prototype, as the patch wraps it. */
export type KoaMethod = (this: KoaApplication, ...args: unknown[]) => unknown;
/** Replaces `proto[name]` with what `wrapper` makes of the original. */
export type Wrap = (
  proto: KoaApplication,
  name: 'callback' | 'handleRequest',
  wrapper: (original: KoaMethod) => KoaMethod,
) => void;

/** On an instrumented application: the function that starts recording each of its requests. */
const REQUEST_START = Symbol('scanopy-metrics.requestStart');

type Instrumented = KoaApplication & {
  [INSTRUMENTED]?: boolean;
  [REQUEST_START]?: RequestStart;
};

/**
 * Koa composes an application's middleware in `callback()` (which `listen()` calls), and runs
 * it for each request through `handleRequest(ctx, composed)`. Wrapping `callback` marks every
 * app however it is served (and apps mounted inside another, koa-mount, are not counted twice:
 * their middleware runs inside the parent's); wrapping `handleRequest` starts recording each
 * request of a marked app before its middleware, and hands the metrics path to the route. A
 * Koa without `handleRequest` (koa before 2.4), or a target without `requestStart`, gets the
 * middleware first in the chain instead. CommonJS and ES module entry points share one
 * class: it is patched once.
 */
export function patchApplication(app: KoaClass, target: PatchTarget, wrap: Wrap): void {
  const proto = app.prototype as Instrumented;
  if (Object.prototype.hasOwnProperty.call(proto, INSTRUMENTED)) return;
  proto[INSTRUMENTED] = true;
  const requestStart = typeof proto.handleRequest === 'function' ? target.requestStart : undefined;
  wrap(proto, 'callback', (original) => {
    return function (this: Instrumented, ...args: unknown[]) {
      if (!Object.prototype.hasOwnProperty.call(this, INSTRUMENTED) && target.isEnabled()) {
        if (requestStart !== undefined) {
          Object.defineProperty(this, REQUEST_START, { value: requestStart });
        } else if (target.middleware !== undefined) {
          this.middleware.unshift(target.middleware());
        }
        Object.defineProperty(this, INSTRUMENTED, { value: true });
        target.instrumented();
      }
      return original.apply(this, args);
    };
  });
  if (requestStart === undefined) return;
  wrap(proto, 'handleRequest', (original) => {
    // Koa's handleRequest(ctx, fnMiddleware), both in koa 2 and 3 and in @eggjs/koa.
    return function (this: Instrumented, ctx: unknown, fnMiddleware: unknown) {
      const start = this[REQUEST_START];
      if (start === undefined) return original.call(this, ctx, fnMiddleware);
      return original.call(this, ctx, start(ctx as never, fnMiddleware as never));
    };
  });
}
