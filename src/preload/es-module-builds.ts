// Which of the patched modules that ship an ES-module build of their own (@eggjs/koa) a service
// could import: on a Node without synchronous module hooks, patching such a build takes an
// ES-module loader thread, which --import then starts only if one is installed. koa itself needs
// none: its ES entry point imports its CommonJS build, which Node's ES-module loader loads through
// require()'s loader, where the preload's own hook patches it.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { KoaModule } from './koa-patch';

/** `start` and each directory above it, up to the root. */
function* ancestors(start: string): Generator<string> {
  let dir = start;
  for (;;) {
    yield dir;
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/** The directory of package `name` as Node's resolution from `start` would find it, if any. */
function installed(start: string, name: string): string | undefined {
  for (const dir of ancestors(start)) {
    const candidate = path.join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

function realpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * Where a service looks for its packages: its entry point's directory (by its real path, as Node
 * resolves from it) and its working directory.
 */
export function serviceDirectories(entry: string | undefined, cwd: string): string[] {
  const dirs = entry ? [path.dirname(realpath(path.resolve(cwd, entry)))] : [];
  return dirs.includes(cwd) ? dirs : [...dirs, cwd];
}

/**
 * The modules of `modules` with an ES-module build that are installed in a node_modules
 * directory at or above one of `dirs`, directly or as a dependency of their framework (which is
 * how pnpm lays them out: `egg` beside the service, `@eggjs/koa` beside egg's real directory).
 * Only file existence is checked: a few stat calls, nothing loaded.
 */
export function esModuleBuildsInstalled(
  modules: readonly KoaModule[],
  dirs: readonly string[],
): string[] {
  return modules
    .filter(({ name, esModuleBuild }) => {
      if (!esModuleBuild) return false;
      return dirs.some((dir) => {
        if (installed(dir, name)) return true;
        const framework = installed(dir, esModuleBuild.framework);
        return framework !== undefined && installed(realpath(framework), name) !== undefined;
      });
    })
    .map(({ name }) => name);
}
