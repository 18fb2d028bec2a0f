// The koa instrumentation: patches Application#callback so that the package's middleware runs
// first in every Koa application of the process.
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import type Koa from 'koa';
import { PACKAGE_NAME, VERSION } from '../version';

export interface KoaMetricsInstrumentationConfig extends InstrumentationConfig {
  /** Put first in the middleware of every Koa application the process creates. */
  middleware: Koa.Middleware;
}

type KoaClass = { prototype: Koa };

const INSTRUMENTED = Symbol.for('scanopy-metrics.instrumented');

/** The Application class, whether `koa` was required (CommonJS) or imported (ES module). */
function applicationClass(exports: unknown): KoaClass | undefined {
  const candidate: unknown =
    typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
  if (typeof candidate !== 'function') return undefined;
  const proto = (candidate as { prototype?: { callback?: unknown } }).prototype;
  return typeof proto?.callback === 'function' ? candidate : undefined;
}

/**
 * Patches `koa` when the service loads it, as OpenTelemetry instrumentations do. Koa composes an
 * application's middleware in `callback()` (which `listen()` calls), so wrapping `callback` to
 * put one middleware in front catches every app however it is served, and apps mounted inside
 * another (koa-mount) are not counted twice.
 */
export class KoaMetricsInstrumentation extends InstrumentationBase<KoaMetricsInstrumentationConfig> {
  constructor(config: KoaMetricsInstrumentationConfig) {
    super(`${PACKAGE_NAME}/koa`, VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'koa',
        ['>=2.0.0 <4'],
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
    ];
  }

  private patch(app: KoaClass): void {
    const proto = app.prototype as Koa & { [INSTRUMENTED]?: boolean };
    // CommonJS and ES module entry points share one class: patch it once.
    if (Object.prototype.hasOwnProperty.call(proto, INSTRUMENTED)) return;
    proto[INSTRUMENTED] = true;
    const isEnabled = () => this.isEnabled();
    const middleware = () => this.getConfig().middleware;
    this._wrap(proto, 'callback', (original) => {
      return function (this: Koa & { [INSTRUMENTED]?: boolean }) {
        if (!Object.prototype.hasOwnProperty.call(this, INSTRUMENTED) && isEnabled()) {
          this.middleware.unshift(middleware());
          Object.defineProperty(this, INSTRUMENTED, { value: true });
        }
        return original.apply(this);
      };
    });
  }
}
