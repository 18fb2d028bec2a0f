/**
 * `node --import scanopy-metrics/register server.mjs`: the preload for ES-module services. It
 * starts the same preload as `--require`, then registers import-in-the-middle's loader, limited
 * to koa and @eggjs/koa, so that `import Koa from 'koa'` (and Egg 4 imported) is patched too.
 */
import { register } from 'node:module';
import './register.js';
import { KOA_MODULES } from './instrumentation.js';
import { markEsmHookRegistered, preloaded } from './preload.js';

if (preloaded()) {
  try {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
      data: { include: KOA_MODULES.map((m) => m.name) },
    });
    markEsmHookRegistered();
  } catch (error) {
    process.stderr.write(
      `scanopy-metrics: ES modules cannot be instrumented: ${(error as Error).message}\n`,
    );
  }
}
