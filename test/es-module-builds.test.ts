// Which ES-module builds a service could import, found as Node's resolution would find them, in
// real directory trees: the npm layout (hoisted or nested under the framework), pnpm's (the
// framework a symlink into its store, the fork beside its real directory), and none.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { makeTempDir, removeTempDir } from './helpers/child';
import { KOA_MODULES } from '../src/preload/koa-patch';
import { esModuleBuildsInstalled, serviceDirectories } from '../src/preload/es-module-builds';

/** Writes `<dir>/<...names>/package.json` and returns the package's directory. */
function packageAt(dir: string, ...names: string[]): string {
  const pkg = path.join(dir, ...names);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), '{"version":"1.0.0"}\n');
  return pkg;
}

describe('ES-module builds installed where a service starts', () => {
  let root: string;
  let service: string;
  beforeEach(() => {
    root = makeTempDir();
    service = path.join(root, 'srv', 'app');
    mkdirSync(path.join(service, 'src'), { recursive: true });
  });
  afterEach(() => removeTempDir(root));

  const found = (...dirs: string[]): string[] => esModuleBuildsInstalled(KOA_MODULES, dirs);

  it('a Koa service (koa alone): none, koa needs no loader', () => {
    packageAt(service, 'node_modules', 'koa');
    expect(found(path.join(service, 'src'), service)).to.deep.equal([]);
  });

  it('@eggjs/koa in a node_modules above the service: found', () => {
    packageAt(root, 'node_modules', '@eggjs', 'koa');
    expect(found(path.join(service, 'src'))).to.deep.equal(['@eggjs/koa']);
  });

  it('@eggjs/koa nested under egg (npm, versions apart): found through egg', () => {
    packageAt(service, 'node_modules', 'egg');
    packageAt(service, 'node_modules', 'egg', 'node_modules', '@eggjs', 'koa');
    expect(found(service)).to.deep.equal(['@eggjs/koa']);
  });

  it("pnpm: egg a symlink into the store, @eggjs/koa beside egg's real directory: found", () => {
    const store = path.join(service, 'node_modules', '.pnpm', 'egg@4.0.10', 'node_modules');
    const egg = packageAt(store, 'egg');
    packageAt(store, '@eggjs', 'koa');
    symlinkSync(egg, path.join(service, 'node_modules', 'egg'));
    expect(found(service)).to.deep.equal(['@eggjs/koa']);
  });

  it('Egg 3 (egg without @eggjs/koa): none', () => {
    packageAt(service, 'node_modules', 'egg');
    packageAt(service, 'node_modules', 'koa');
    expect(found(service)).to.deep.equal([]);
  });

  it('a directory named like the package without a package.json: none', () => {
    mkdirSync(path.join(service, 'node_modules', '@eggjs', 'koa'), { recursive: true });
    expect(found(service)).to.deep.equal([]);
  });

  it("the service's directories: its entry point's, by real path, and its working directory", () => {
    const real = path.join(root, 'release', 'server.mjs');
    mkdirSync(path.dirname(real));
    writeFileSync(real, '');
    symlinkSync(real, path.join(service, 'server.mjs'));
    expect(serviceDirectories('server.mjs', service)).to.deep.equal([
      path.join(root, 'release'),
      service,
    ]);
    expect(serviceDirectories(path.join(service, 'src', 'main.mjs'), service)).to.deep.equal([
      path.join(service, 'src'),
      service,
    ]);
    expect(
      serviceDirectories(path.join(root, 'release', 'server.mjs'), path.join(root, 'release')),
    ).to.deep.equal([path.join(root, 'release')]);
    // `node --import … -e` or a REPL: no entry point.
    expect(serviceDirectories(undefined, service)).to.deep.equal([service]);
  });
});
