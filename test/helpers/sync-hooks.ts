// Whether this Node runs import-in-the-middle's synchronous module hooks, as register.mts asks it:
// then --import never starts an ES-module loader thread.
import { pathToFileURL } from 'node:url';

export async function nodeHasSyncHooks(): Promise<boolean> {
  const file = require.resolve('import-in-the-middle/register-hooks.mjs');
  const hooks = (await import(pathToFileURL(file).href)) as { supportsSyncHooks(): boolean };
  return hooks.supportsSyncHooks();
}
