// The preload's hooks on module loading: koa and @eggjs/koa get the package's middleware
// (koa-patch.ts), think-router leaves its rules' patterns (think-router.ts), as the service
// requires them, through require-in-the-middle alone; `import` (with --import) through
// import-in-the-middle's Hook, added only once its loader is registered. This is what
// @opentelemetry/instrumentation's InstrumentationBase does with the same two libraries, without
// the 70 modules it and @opentelemetry/api add to every start (instrumentation.ts keeps that
// class for services that register instrumentations themselves).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diag } from '../diag';
import type { KoaMiddleware } from '../types';
import {
  applicationClass,
  KOA_MODULES,
  patchApplication,
  type KoaApplication,
  type KoaClass,
} from './koa-patch';
import {
  patchRouterClass,
  THINK_ROUTER,
  unpatchRouterClass,
  wrapParseRouter,
  type ParseRouter,
} from './think-router';

export interface ModuleHooksOptions {
  /** Put first in the middleware of every Koa application the process creates. */
  middleware: KoaMiddleware;
  /** Called when the first app of the process is instrumented (it is about to serve). */
  onFirstApp?: () => void;
}

/** Either library's Hook: both stop calling back on `unhook()`. */
interface Unhookable {
  unhook(): void;
}

type OnLoad = (exports: unknown, name: string, baseDir?: string | void) => unknown;

/** The major version range of a `>=A.0.0 <B` range, as the patch's modules declare them. */
function majorRange(versions: string): [number, number] {
  const [, low, high] = /^>=(\d+)\.0\.0 <(\d+)$/.exec(versions) ?? [];
  return [Number(low), Number(high)];
}

/**
 * The version of the package at `baseDir` if the patch covers it (releases only, as
 * InstrumentationBase decides); a package.json that cannot be read says no.
 */
function supported(baseDir: string | void, versions: string): string | undefined {
  if (!baseDir) return undefined;
  let version: unknown;
  try {
    version = (
      JSON.parse(readFileSync(path.join(baseDir, 'package.json'), 'utf8')) as {
        version?: unknown;
      }
    ).version;
  } catch {
    return undefined;
  }
  const match = typeof version === 'string' ? /^(\d+)\.\d+\.\d+$/.exec(version) : null;
  if (!match) return undefined;
  const [low, high] = majorRange(versions);
  const major = Number(match[1]);
  return major >= low && major < high ? (version as string) : undefined;
}

const ORIGINAL_CALLBACK = Symbol('scanopy-metrics.original-callback');

type Patched = KoaApplication & { [ORIGINAL_CALLBACK]?: KoaApplication['callback'] };

/** Patches koa, @eggjs/koa and think-router as the process loads them. */
export class ModuleHooks {
  private enabled = true;
  private instrumentedApps = 0;
  private readonly hooks: Unhookable[] = [];
  private readonly patched: Patched[] = [];
  private readonly routers: unknown[] = [];
  private readonly options: ModuleHooksOptions;

  constructor(options: ModuleHooksOptions) {
    this.options = options;
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when the preload runs */
    const { Hook } = require('require-in-the-middle') as typeof import('require-in-the-middle');
    /* eslint-enable @typescript-eslint/no-require-imports */
    this.hooks.push(
      new Hook(
        KOA_MODULES.map((m) => m.name),
        (exports, name, baseDir) => this.onKoa(exports, name, baseDir) as typeof exports,
      ),
      // think-router's Router class is in a file of its own: internals are hooked too.
      new Hook(
        [THINK_ROUTER.name],
        { internals: true },
        (exports, name, baseDir) => this.onThinkRouter(exports, name, baseDir) as typeof exports,
      ),
    );
  }

  /**
   * Hooks ES-module imports of koa and @eggjs/koa too (--import: register.mts calls it once it has
   * registered import-in-the-middle's loader, which must be this copy of the library).
   */
  hookEsModules(): void {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded only for --import */
    const { Hook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const onImport: OnLoad = (exports, name, baseDir) => {
      if (!baseDir && path.isAbsolute(name)) {
        // import-in-the-middle names a module by its file where require-in-the-middle names
        // its package; the patch only needs the directory of package.json.
        const parsed = path.parse(name);
        return this.onKoa(exports, parsed.name, parsed.dir);
      }
      return this.onKoa(exports, name, baseDir);
    };
    this.hooks.push(
      new Hook(
        KOA_MODULES.map((m) => m.name),
        onImport,
      ),
    );
  }

  /** Whether at least one application of the process runs the middleware. */
  instrumentedAny(): boolean {
    return this.instrumentedApps > 0;
  }

  /** Stops hooking and undoes the patches (for tests). */
  disable(): void {
    this.enabled = false;
    for (const hook of this.hooks.splice(0)) hook.unhook();
    for (const proto of this.patched.splice(0)) {
      const original = proto[ORIGINAL_CALLBACK];
      if (original) proto.callback = original;
      delete proto[ORIGINAL_CALLBACK];
    }
    for (const router of this.routers.splice(0)) unpatchRouterClass(router);
  }

  private onKoa(exports: unknown, name: string, baseDir: string | void): unknown {
    const module = KOA_MODULES.find((m) => m.name === name);
    const version = module && supported(baseDir, module.versions);
    const app = version ? applicationClass(exports) : undefined;
    if (app) {
      diag.debug('Applying instrumentation patch for module on require hook', {
        module: name,
        version,
      });
      this.patch(app);
    }
    return exports;
  }

  private onThinkRouter(exports: unknown, name: string, baseDir: string | void): unknown {
    if (!this.enabled || !supported(baseDir, THINK_ROUTER.versions)) return exports;
    if (name === THINK_ROUTER.name) {
      return typeof exports === 'function'
        ? wrapParseRouter(exports as ParseRouter, () => this.enabled)
        : exports;
    }
    if (path.normalize(name) === path.normalize(THINK_ROUTER.file)) {
      patchRouterClass(exports);
      this.routers.push(exports);
    }
    return exports;
  }

  private patch(app: KoaClass): void {
    patchApplication(
      app,
      {
        isEnabled: () => this.enabled,
        middleware: () => this.options.middleware,
        instrumented: () => {
          if (this.instrumentedApps++ === 0) this.options.onFirstApp?.();
        },
      },
      (proto, wrapper) => {
        const patched = proto as Patched;
        // The prototype's own method, taken off it to be wrapped and put back by disable().
        // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this`
        const original = proto.callback;
        patched[ORIGINAL_CALLBACK] = original;
        proto.callback = wrapper(original);
        this.patched.push(patched);
      },
    );
  }
}
