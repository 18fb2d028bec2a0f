// The koa instrumentation: patches Application#callback so that the package's middleware runs
// first in every Koa application of the process, on koa or on Egg 4's fork @eggjs/koa.
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import type Koa from 'koa';
import type { KoaMiddleware } from '../types';
import { PACKAGE_NAME, VERSION } from '../version';
import { thinkRouterDefinition } from './think-router';

export interface KoaMetricsInstrumentationConfig extends InstrumentationConfig {
  /** Put first in the middleware of every Koa application the process creates. */
  middleware: KoaMiddleware;
  /** Called when the first app of the process is instrumented (it is about to serve). */
  onFirstApp?: () => void;
}

/**
 * The modules whose Application class is patched, with the versions: koa itself and
 * `@eggjs/koa`, the fork Egg 4 runs on (same class, same `callback()`). The ES-module hook of
 * `--import` is limited to these names.
 */
export const KOA_MODULES: readonly { name: string; versions: string }[] = [
  { name: 'koa', versions: '>=2.0.0 <4' },
  { name: '@eggjs/koa', versions: '>=2.0.0 <4' },
];

type KoaClass = { prototype: Koa };

const INSTRUMENTED = Symbol.for('scanopy-metrics.instrumented');

/** The Application class, whether the module was required (CommonJS) or imported (ES module). */
function applicationClass(exports: unknown): KoaClass | undefined {
  const candidate: unknown =
    typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
  if (typeof candidate !== 'function') return undefined;
  const proto = (candidate as { prototype?: { callback?: unknown } }).prototype;
  return typeof proto?.callback === 'function' ? candidate : undefined;
}

/**
 * Patches `koa` (and `@eggjs/koa`) when the service loads it, as OpenTelemetry instrumentations
 * do. Koa composes an application's middleware in `callback()` (which `listen()` calls), so
 * wrapping `callback` to put one middleware in front catches every app however it is served,
 * and apps mounted inside another (koa-mount) are not counted twice.
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
            if (app) this.patch(app);
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

  private patch(app: KoaClass): void {
    const proto = app.prototype as Koa & { [INSTRUMENTED]?: boolean };
    // CommonJS and ES module entry points share one class: patch it once.
    if (Object.prototype.hasOwnProperty.call(proto, INSTRUMENTED)) return;
    proto[INSTRUMENTED] = true;
    const isEnabled = () => this.isEnabled();
    const middleware = () => this.getConfig().middleware;
    const counted = () => this.instrumentedApps++;
    let first = true;
    const onApp = (): void => {
      if (!first) return;
      first = false;
      this.getConfig().onFirstApp?.();
    };
    this._wrap(proto, 'callback', (original) => {
      return function (this: Koa & { [INSTRUMENTED]?: boolean }) {
        if (!Object.prototype.hasOwnProperty.call(this, INSTRUMENTED) && isEnabled()) {
          this.middleware.unshift(middleware());
          Object.defineProperty(this, INSTRUMENTED, { value: true });
          counted();
          onApp();
        }
        return original.apply(this);
      };
    });
  }
}
