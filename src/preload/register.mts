/**
 * `node --import scanopy-metrics/register server.mjs`: the preload for ES-module services. It
 * starts the same preload as `--require`, then hooks ES-module loading, limited to koa and
 * @eggjs/koa, so that `import Koa from 'koa'` (and Egg 4 imported) is patched too: with import-in-the-middle's synchronous hooks
 * (`module.registerHooks`) where Node runs them correctly, else with its loader thread
 * (`module.register`, deprecated from Node 26 on: DEP0205).
 */
import module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import './register.js';
import { disabledByEnvironment } from './switch.js';

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
    file = createRequire(import.meta.url).resolve('import-in-the-middle/register-hooks.mjs');
  } catch {
    return undefined; // import-in-the-middle before 3.6
  }
  const hooks = (await import(pathToFileURL(file).href)) as SyncHooks;
  return hooks.supportsSyncHooks() ? hooks : undefined;
}

async function hookEsModules(include: string[]): Promise<void> {
  const hooks = await syncHooks();
  if (hooks) hooks.register({ include });
  else
    module.register('import-in-the-middle/hook.mjs', import.meta.url, {
      data: { include },
    });
}

if (!disabledByEnvironment(process.env)) {
  const { markEsmHookRegistered, preloaded } = await import('./preload.js');
  if (preloaded()) {
    try {
      const { KOA_MODULES } = await import('./koa-patch.js');
      await hookEsModules(KOA_MODULES.map((m) => m.name));
      markEsmHookRegistered();
    } catch (error) {
      process.stderr.write(
        `scanopy-metrics: ES modules cannot be instrumented: ${(error as Error).message}\n`,
      );
    }
  }
}
