// The koa patch as an OpenTelemetry instrumentation (`InstrumentationBase`), for a service that
// registers instrumentations itself: patches Application#callback so that the package's
// middleware runs first in every Koa application of the process, on koa or on Egg 4's fork
// @eggjs/koa, and think-router's rules. The preload uses the lighter hooks of module-hooks.ts.
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import type { KoaMiddleware } from '../types';
import { PACKAGE_NAME, VERSION } from '../version';
import { applicationClass, KOA_MODULES, patchApplication, type KoaMethod } from './koa-patch';
import {
  patchRouterClass,
  THINK_ROUTER,
  unpatchRouterClass,
  wrapParseRouter,
  type ParseRouter,
} from './think-router';

export { KOA_MODULES } from './koa-patch';

export interface KoaMetricsInstrumentationConfig extends InstrumentationConfig {
  /** Put first in the middleware of every Koa application the process creates. */
  middleware: KoaMiddleware;
  /** Called when the first app of the process is instrumented (it is about to serve). */
  onFirstApp?: () => void;
}

/** The definition of `think-router` for the koa instrumentation. */
function thinkRouterDefinition(isEnabled: () => boolean): InstrumentationNodeModuleDefinition {
  return new InstrumentationNodeModuleDefinition(
    THINK_ROUTER.name,
    [THINK_ROUTER.versions],
    (exports: unknown) =>
      typeof exports === 'function' ? wrapParseRouter(exports as ParseRouter, isEnabled) : exports,
    () => undefined,
    [
      new InstrumentationNodeModuleFile(
        THINK_ROUTER.file,
        [THINK_ROUTER.versions],
        (exports: unknown) => {
          patchRouterClass(exports);
          return exports;
        },
        (exports: unknown) => unpatchRouterClass(exports),
      ),
    ],
  );
}

/**
 * Patches `koa` (and `@eggjs/koa`) when the service loads it, as OpenTelemetry instrumentations
 * do (see koa-patch.ts for what the patch does).
 */
export class KoaMetricsInstrumentation extends InstrumentationBase<KoaMetricsInstrumentationConfig> {
  /** How many applications got the middleware so far (the preload reports none ever did). */
  private instrumentedApps = 0;

  constructor(config: KoaMetricsInstrumentationConfig) {
    super(`${PACKAGE_NAME}/koa`, VERSION, config);
  }

  /** Whether at least one application of the process runs the middleware. */
  instrumentedAny(): boolean {
    return this.instrumentedApps > 0;
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const koa = KOA_MODULES.map(
      ({ name, versions }) =>
        new InstrumentationNodeModuleDefinition(
          name,
          [versions],
          (exports: unknown) => {
            const app = applicationClass(exports);
            if (app) {
              patchApplication(
                app,
                {
                  isEnabled: () => this.isEnabled(),
                  middleware: () => this.getConfig().middleware,
                  instrumented: () => {
                    if (this.instrumentedApps++ === 0) this.getConfig().onFirstApp?.();
                  },
                },
                (proto, name, wrapper) =>
                  this._wrap(proto as unknown as Record<typeof name, KoaMethod>, name, wrapper),
              );
            }
            return exports;
          },
          (exports: unknown) => {
            const app = applicationClass(exports);
            if (app) this._unwrap(app.prototype, 'callback');
          },
        ),
    );
    return [...koa, thinkRouterDefinition(() => this.isEnabled())];
  }
}
