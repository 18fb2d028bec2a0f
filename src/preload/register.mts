/**
 * `node --import scanopy-metrics/register server.mjs`: the preload for ES-module services. It
 * starts the same preload as `--require`, then hooks ES-module loading, limited to koa and
 * @eggjs/koa, so that `import Koa from 'koa'` (and Egg 4 imported) is patched too: with
 * import-in-the-middle's synchronous hooks (`module.registerHooks`) where Node runs them
 * correctly, else, and only when an ES-module build needs it, with its loader thread
 * (`module.register`, deprecated from Node 26 on: DEP0205).
 */
import module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { KoaModule } from './koa-patch.js';

// The package's own CommonJS modules are loaded with require(), not imported: Node's ES-module
// loader reads and lexes the source of every CommonJS file an ES module imports, for its export
// names, which cost an --import start about 80 ms of CPU time on Node 20 for the preload's files.
const require = createRequire(import.meta.url);
require('./register.js');
const { disabledByEnvironment } = require('./switch.js') as typeof import('./switch.js');
const load = {
  preload: () => require('./preload.js') as typeof import('./preload.js'),
  koaPatch: () => require('./koa-patch.js') as typeof import('./koa-patch.js'),
  esModuleBuilds: () => require('./es-module-builds.js') as typeof import('./es-module-builds.js'),
};

/** What import-in-the-middle (3.6 and later) offers in register-hooks.mjs. */
interface SyncHooks {
  register(options: { include: string[] }): void;
  supportsSyncHooks(): boolean;
}

/** import-in-the-middle's synchronous hooks, from the package's own copy. */
async function syncHooks(): Promise<SyncHooks | undefined> {
  if (typeof (module as { registerHooks?: unknown }).registerHooks !== 'function') return undefined;
  // The koa patch registers its Hook with the package's copy; the loader must be that copy.
  let file: string;
  try {
    file = require.resolve('import-in-the-middle/register-hooks.mjs');
  } catch {
    return undefined; // import-in-the-middle before 3.6
  }
  const hooks = (await import(pathToFileURL(file).href)) as SyncHooks;
  return hooks.supportsSyncHooks() ? hooks : undefined;
}

/**
 * Registers the ES-module hook; false if none is needed. Without synchronous hooks (Node 20, 22
 * before 22.22.3) the hook is a loader thread that every later import of the service goes through,
 * which costs a start-up more than the rest of the preload: it is started only if the service
 * could import an ES-module build that only it can patch (@eggjs/koa's). koa needs none there:
 * with no loader registered, Node loads the CommonJS build that koa's ES entry point imports
 * through require()'s loader, where the preload's own hook patches it.
 */
async function hookEsModules(modules: readonly KoaModule[]): Promise<boolean> {
  const include = modules.map((m) => m.name);
  const hooks = await syncHooks();
  if (hooks) {
    hooks.register({ include });
    return true;
  }
  const { esModuleBuildsInstalled, serviceDirectories } = load.esModuleBuilds();
  const dirs = serviceDirectories(process.argv[1], process.cwd());
  if (esModuleBuildsInstalled(modules, dirs).length === 0) return false;
  module.register('import-in-the-middle/hook.mjs', import.meta.url, {
    data: { include },
  });
  return true;
}

if (!disabledByEnvironment(process.env)) {
  const { markImportPreload, preloaded } = load.preload();
  if (preloaded()) {
    try {
      const { KOA_MODULES } = load.koaPatch();
      markImportPreload(await hookEsModules(KOA_MODULES));
    } catch (error) {
      process.stderr.write(
        `scanopy-metrics: ES modules cannot be instrumented: ${(error as Error).message}\n`,
      );
    }
  }
}
