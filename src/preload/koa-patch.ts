// What the preload does to a Koa Application class (koa, or Egg 4's fork @eggjs/koa): wrap its
// `callback()` so that the package's middleware runs first in every application. Free of any
// module-loading hook, so that both the preload's own hooks and the OpenTelemetry
// instrumentation class share it.
import type { KoaMiddleware } from '../types';

/**
 * The modules whose Application class is patched, with the major versions: koa itself and
 * `@eggjs/koa`, the fork Egg 4 runs on (same class, same `callback()`). The ES-module hook of
 * `--import` is limited to these names.
 */
export const KOA_MODULES: readonly { name: string; versions: string }[] = [
  { name: 'koa', versions: '>=2.0.0 <4' },
  { name: '@eggjs/koa', versions: '>=2.0.0 <4' },
];

/**
 * What the patch uses of a Koa application, structurally: the package's declarations name no
 * koa type, so that a consumer needs no @types/koa.
 */
export interface KoaApplication {
  middleware: unknown[];
  callback(this: KoaApplication): unknown;
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
  middleware(): KoaMiddleware;
  /** Called for each application that gets the middleware. */
  instrumented(): void;
}

type Callback = KoaApplication['callback'];
/** Replaces `proto.callback` with what `wrapper` makes of the original. */
export type Wrap = (proto: KoaApplication, wrapper: (original: Callback) => Callback) => void;

/**
 * Koa composes an application's middleware in `callback()` (which `listen()` calls), so wrapping
 * `callback` to put one middleware in front catches every app however it is served, and apps
 * mounted inside another (koa-mount) are not counted twice. CommonJS and ES module entry points
 * share one class: it is patched once.
 */
export function patchApplication(app: KoaClass, target: PatchTarget, wrap: Wrap): void {
  const proto = app.prototype as KoaApplication & { [INSTRUMENTED]?: boolean };
  if (Object.prototype.hasOwnProperty.call(proto, INSTRUMENTED)) return;
  proto[INSTRUMENTED] = true;
  wrap(proto, (original) => {
    return function (this: KoaApplication & { [INSTRUMENTED]?: boolean }) {
      if (!Object.prototype.hasOwnProperty.call(this, INSTRUMENTED) && target.isEnabled()) {
        this.middleware.unshift(target.middleware());
        Object.defineProperty(this, INSTRUMENTED, { value: true });
        target.instrumented();
      }
      return original.apply(this);
    };
  });
}
