// The preload's hooks on module loading: koa and @eggjs/koa get the package's middleware
// (koa-patch.ts), think-router leaves its rules' patterns (think-router.ts), as the service
// requires them, through a hook on Node's CommonJS loader (`Module._load`), which also sees the
// CommonJS build that koa's ES entry point imports; an ES-module build (@eggjs/koa's, with
// --import) through import-in-the-middle's Hook, added only once its loader is registered.
// @opentelemetry/instrumentation's InstrumentationBase does this with require-in-the-middle, which
// with its dependencies cost a start-up about 10 ms and resolves every require() of the service
// once more per hook (instrumentation.ts keeps that class for services that register
// instrumentations themselves); this hook compares the request with three names and resolves
// nothing else.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diag } from '../diagnostics/diag';
import type { KoaMiddleware, RequestStart } from '../types';
import {
  applicationClass,
  KOA_MODULES,
  patchApplication,
  type KoaApplication,
  type KoaClass,
  type KoaMethod,
} from './koa-patch';
import {
  patchRouterClass,
  THINK_ROUTER,
  unpatchRouterClass,
  wrapParseRouter,
  type ParseRouter,
} from './think-router';

export interface ModuleHooksOptions {
  /** Run at the start of each request of every Koa application the process creates. */
  requestStart: RequestStart;
  /** Put first in the middleware instead, for a koa without `handleRequest` (before 2.4). */
  middleware: () => KoaMiddleware;
  /** Called when the first app of the process is instrumented (it is about to serve). */
  onFirstApp?: () => void;
}

/** A hook that stops calling back on `unhook()`. */
interface Unhookable {
  unhook(): void;
}

interface ParentModule {
  filename?: string | null;
}

type Load = (
  this: unknown,
  request: string,
  parent: ParentModule | undefined,
  isMain: boolean,
) => unknown;

/** Node's CommonJS Module class, as far as the hook uses it. */
interface ModuleClass {
  _load: Load;
  _resolveFilename(request: string, parent: ParentModule | undefined, isMain: boolean): string;
}

/**
 * Node's Module class, from this module's own `module` object: requiring `node:module` would load
 * one more built-in (and the ES-module loader's code with it) at start-up.
 */
const Module = (module as unknown as { constructor: ModuleClass }).constructor;

/** The directory of package `name` that `filename` belongs to (under node_modules). */
function packageDir(filename: string, name: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const at = filename.lastIndexOf(marker);
  return at < 0 ? undefined : filename.slice(0, at + marker.length - 1);
}

/**
 * Calls `onLoad` with what each require() of the process returns, once the module is loaded, and
 * returns what it returns instead. Unhooked, it passes everything through (another hook may have
 * wrapped this one since).
 */
function hookRequire(
  onLoad: (exports: unknown, request: string, parent: ParentModule | undefined) => unknown,
): Unhookable {
  const original = Module._load;
  let hooked = true;
  const load: Load = function (this: unknown, request, parent) {
    // eslint-disable-next-line prefer-rest-params -- every argument, whatever Node passes
    const exports = original.apply(this, arguments as unknown as Parameters<Load>);
    return hooked ? onLoad(exports, request, parent) : exports;
  };
  Module._load = load;
  return {
    unhook() {
      hooked = false;
      if (Module._load === load) Module._load = original;
    },
  };
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

const ORIGINALS = Symbol('scanopy-metrics.originals');

type Patchable = 'callback' | 'handleRequest';

/** A patched prototype, with its own methods as they were, for disable(). */
type Patched = KoaApplication & { [ORIGINALS]?: Partial<Record<Patchable, unknown>> };

/** Patches koa, @eggjs/koa and think-router as the process loads them. */
export class ModuleHooks {
  private enabled = true;
  private instrumentedApps = 0;
  private readonly hooks: Unhookable[] = [];
  private readonly patched: Patched[] = [];
  private readonly routers: unknown[] = [];
  private readonly wrappedRouters = new WeakMap<object, ParseRouter>();
  private readonly options: ModuleHooksOptions;

  constructor(options: ModuleHooksOptions) {
    this.options = options;
    this.hooks.push(
      hookRequire((exports, request, parent) => this.onRequire(exports, request, parent)),
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
        // import-in-the-middle names a module by its file where require() names its
        // package; the patch only needs the directory of package.json.
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
      const originals = proto[ORIGINALS] ?? {};
      for (const [name, original] of Object.entries(originals)) {
        (proto as unknown as Record<string, unknown>)[name] = original;
      }
      delete proto[ORIGINALS];
    }
    for (const router of this.routers.splice(0)) unpatchRouterClass(router);
  }

  private onKoa(exports: unknown, name: string, baseDir: string | void): unknown {
    const known = KOA_MODULES.find((m) => m.name === name);
    const version = known && supported(baseDir, known.versions);
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

  /** What the process's require() returns: koa's class patched, think-router's parts wrapped. */
  private onRequire(exports: unknown, request: string, parent: ParentModule | undefined): unknown {
    if (!this.enabled) return exports;
    if (request === THINK_ROUTER.name) return this.onThinkRouter(exports, request, parent);
    if (KOA_MODULES.some((m) => m.name === request)) {
      const filename = this.resolve(request, parent);
      return filename ? this.onKoa(exports, request, packageDir(filename, request)) : exports;
    }
    if (path.isAbsolute(request)) return this.onKoaFile(exports, request);
    // think-router's Router class, required by its own index.js.
    const from = parent?.filename;
    if (from && request.startsWith('.') && from.includes(`${path.sep}think-router${path.sep}`)) {
      return this.onThinkRouter(exports, request, parent);
    }
    return exports;
  }

  /**
   * A file required by its path: how Node's ES-module loader loads a CommonJS file that an ES
   * module imports (`Module._load(filename)`, when no loader hook gave its source), so koa's ES
   * entry point (`import Koa from 'koa'`, which imports `lib/application.js`) is patched here,
   * by the package the file belongs to, without an ES-module loader hook.
   */
  private onKoaFile(exports: unknown, filename: string): unknown {
    for (const { name } of KOA_MODULES) {
      const baseDir = packageDir(filename, name);
      // The package's own file, not one of a package nested in its node_modules.
      if (baseDir && !filename.includes(`${path.sep}node_modules${path.sep}`, baseDir.length)) {
        return this.onKoa(exports, name, baseDir);
      }
    }
    return exports;
  }

  private resolve(request: string, parent: ParentModule | undefined): string | undefined {
    try {
      return Module._resolveFilename(request, parent, false);
    } catch {
      return undefined;
    }
  }

  /** think-router's main export (its middleware factory) and its Router class. */
  private onThinkRouter(
    exports: unknown,
    request: string,
    parent: ParentModule | undefined,
  ): unknown {
    const filename = this.resolve(request, parent);
    const baseDir = filename && packageDir(filename, THINK_ROUTER.name);
    if (!baseDir || !supported(baseDir, THINK_ROUTER.versions)) return exports;
    if (request === THINK_ROUTER.name) {
      if (typeof exports !== 'function') return exports;
      // One wrapper per export, whichever require() asks for it.
      let wrapped = this.wrappedRouters.get(exports);
      if (!wrapped) {
        wrapped = wrapParseRouter(exports as ParseRouter, () => this.enabled);
        this.wrappedRouters.set(exports, wrapped);
      }
      return wrapped;
    }
    if (filename === path.join(baseDir, path.basename(THINK_ROUTER.file))) {
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
        requestStart: this.options.requestStart,
        middleware: this.options.middleware,
        instrumented: () => {
          if (this.instrumentedApps++ === 0) this.options.onFirstApp?.();
        },
      },
      (proto, name, wrapper) => {
        const patched = proto as Patched;
        const methods = proto as unknown as Record<Patchable, KoaMethod>;
        // The prototype's own method, taken off it to be wrapped and put back by disable().
        const original = methods[name];
        const originals = (patched[ORIGINALS] ??= {});
        if (originals[name] === undefined) originals[name] = original;
        methods[name] = wrapper(original);
        if (!this.patched.includes(patched)) this.patched.push(patched);
      },
    );
  }
}
