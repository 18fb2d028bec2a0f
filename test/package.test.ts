// The package as users get it: `npm pack`'s tarball, installed with npm into fresh consumer
// projects (Koa 2 with the legacy koa-router, Koa 3 with @koa/router, a host with its own
// OpenTelemetry SDK, a strict TypeScript project), each started or compiled as its users would.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from './helpers/chai';
import { Children, makeTempDir, REPO, removeTempDir } from './helpers/child';
import { sample } from './helpers/exposition';

const run = promisify(execFile);
const TOKEN = 'consumer-token';

/** The test's environment without npm's own variables (an npm script's) or the package's. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|SCANOPY_|OTEL_)/i.test(name)) env[name] = value;
  }
  // npm runs under the node that runs these tests, so it resolves dependencies by its engines.
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
  return env;
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('npm', args, {
      cwd,
      env: npmEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** A consumer project: package.json, files, then `npm install` of the tarball and `deps`. */
async function consumer(
  dir: string,
  tarball: string,
  deps: string[],
  files: Record<string, string>,
): Promise<void> {
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  await npm(dir, 'install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...deps);
}

/** Every installed copy of `name` (its directories), however deep. */
function copiesOf(root: string, name: string): string[] {
  const found: string[] = [];
  const visit = (nodeModules: string): void => {
    if (!existsSync(nodeModules)) return;
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@');
      const dirs = scoped
        ? readdirSync(path.join(nodeModules, entry)).map((e) => path.join(nodeModules, entry, e))
        : [path.join(nodeModules, entry)];
      for (const dir of dirs) {
        if (path.relative(nodeModules, dir).split(path.sep).join('/') === name) found.push(dir);
        visit(path.join(dir, 'node_modules'));
      }
    }
  };
  visit(path.join(root, 'node_modules'));
  return found;
}

function version(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}

const KOA2_SERVER = `'use strict';
const Koa = require('koa');
const Router = require('koa-router');

const app = new Koa();
const router = new Router({ prefix: '/api' });
router.get('/items/new', (ctx) => {
  ctx.body = 'form';
});
router.get('/items/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

const KOA3_SERVER = `import Koa from 'koa';
import { Router } from '@koa/router';

const app = new Koa();
const router = new Router({ prefix: '/api' });
router.get('/items/new', (ctx) => {
  ctx.body = 'form';
});
router.get('/items/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

/** Two requests to /api/items/:id and one to nowhere, then the scrape's text. */
async function trafficAndScrape(url: string): Promise<string> {
  for (const id of ['1', '2']) {
    const res = await fetch(`${url}/api/items/${id}`);
    expect(await res.json()).to.deep.equal({ id });
  }
  expect((await fetch(`${url}/nowhere`)).status).to.equal(404);
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).to.equal(200);
  return res.text();
}

function expectRouteLabels(text: string): void {
  const labels = { method: 'GET', status: '200', entity_type: 'anonymous' };
  expect(sample(text, 'http_requests_total', { ...labels, path: '/api/items/:id' })).to.equal(2);
  expect(
    sample(text, 'http_requests_total', {
      method: 'GET',
      path: 'unmatched',
      status: '404',
      entity_type: 'anonymous',
    }),
  ).to.equal(1);
}

describe('the packed package in fresh consumer projects', function () {
  // Each case is an npm install (from npm's cache where it can) and a child process.
  this.timeout(300_000);

  const children = new Children();
  const dirs: string[] = [];
  let packDir: string;
  let tarball: string;
  let packed: string[];

  function tempDir(): string {
    const dir = makeTempDir('scanopy-metrics-consumer-');
    dirs.push(dir);
    return dir;
  }

  before(async () => {
    packDir = tempDir();
    // dist/ is built by `npm test`'s pretest; packing must not rebuild it under the tests.
    const out = await npm(
      REPO,
      'pack',
      '--ignore-scripts',
      '--json',
      '--pack-destination',
      packDir,
    );
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(packDir, info.filename);
    packed = info.files.map((f) => f.path).sort();
  });
  afterEach(async () => children.stopAll());
  after(() => {
    for (const dir of dirs.splice(0)) removeTempDir(dir);
  });

  it('the tarball holds dist, the shipped config, deploy/, README and LICENSE, nothing else', () => {
    const stray = packed.filter(
      (file) =>
        !/^(dist|deploy)\//.test(file) &&
        !['package.json', 'README.md', 'LICENSE', 'otel-config.yaml'].includes(file),
    );
    expect(stray).to.deep.equal([]);
    expect(packed).to.include.members(['LICENSE', 'README.md', 'otel-config.yaml', 'package.json']);
    expect(packed.some((f) => f.startsWith('deploy/'))).to.equal(true);
    // Source maps would point at src/, which is not shipped.
    expect(packed.filter((f) => f.endsWith('.map'))).to.deep.equal([]);
  });

  it('every file the exports name is in the tarball, and package.json is publishable', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      private?: boolean;
      license: string;
      exports: Record<string, unknown>;
    };
    expect(pkg.private).to.equal(undefined);
    expect(pkg.license).to.equal('Apache-2.0');
    expect(readFileSync(path.join(REPO, 'LICENSE'), 'utf8')).to.contain('Apache License');
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(pkg.exports);
    expect(targets.length).to.be.greaterThan(4);
    expect(targets.filter((t) => !packed.includes(t))).to.deep.equal([]);
  });

  it('every runtime dependency is one that dist/ loads, and dist/ loads nothing undeclared', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    const loaded = new Set<string>();
    for (const file of packed.filter((f) => /^dist\/.*\.(m?js)$/.test(f))) {
      const text = readFileSync(path.join(REPO, file), 'utf8');
      const loads = /(?:require\(|from |import\(|\.resolve\()\s*["']([^"'.][^"']*)["']/g;
      for (const m of text.matchAll(loads)) {
        const spec = m[1];
        if (spec.startsWith('node:')) continue;
        const parts = spec.split('/');
        loaded.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
    const runtime = Object.keys(pkg.dependencies).sort();
    expect(runtime.filter((name) => !loaded.has(name))).to.deep.equal([]);
    const declared = new Set([...runtime, ...Object.keys(pkg.peerDependencies)]);
    expect([...loaded].filter((name) => !declared.has(name)).sort()).to.deep.equal([]);
  });

  it('Koa 2 with koa-router (CommonJS, --require): one koa, route-pattern labels', async () => {
    const dir = tempDir();
    await consumer(dir, tarball, ['koa@2.16.4', 'koa-router@12.0.1'], {
      'server.js': KOA2_SERVER,
    });
    expect(copiesOf(dir, 'koa').map(version)).to.deep.equal(['2.16.4']);
    await npm(dir, 'ls', 'koa', '--all');
    const service = await children.start({
      fixture: path.join(dir, 'server.js'),
      nodeArgs: ['--require', 'scanopy-metrics/register'],
      cwd: dir,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    expectRouteLabels(await trafficAndScrape(service.url));
    expect(service.stderr()).to.equal('');
  });

  it('Koa 3 with @koa/router (ES module, --import): one koa, route-pattern labels', async () => {
    const dir = tempDir();
    await consumer(dir, tarball, ['koa@3.3.0', '@koa/router@15.7.0'], {
      'server.mjs': KOA3_SERVER,
    });
    expect(copiesOf(dir, 'koa').map(version)).to.deep.equal(['3.3.0']);
    await npm(dir, 'ls', 'koa', '--all');
    const service = await children.start({
      fixture: path.join(dir, 'server.mjs'),
      nodeArgs: ['--import', 'scanopy-metrics/register'],
      cwd: dir,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    expectRouteLabels(await trafficAndScrape(service.url));
    expect(service.stderr()).to.equal('');
  });

  it("a host running its own OpenTelemetry SDK (this Node's line) shares one @opentelemetry/api", async () => {
    // npm picks each OpenTelemetry package by its engines: the 3.x line needs Node >= 22.15.
    const [major, minor] = process.versions.node.split('.').map(Number);
    const line3 = major > 22 || (major === 22 && minor >= 15);
    const dir = tempDir();
    await consumer(
      dir,
      tarball,
      [line3 ? '@opentelemetry/sdk-node@0.301.0' : '@opentelemetry/sdk-node@0.223.0', 'koa@3.3.0'],
      {},
    );
    const api = copiesOf(dir, '@opentelemetry/api').map(version);
    expect(api, api.join()).to.have.length(1);
    expect(api[0]).to.match(line3 ? /^1\.10\./ : /^1\.9\./);
    const sdkMetrics = copiesOf(dir, '@opentelemetry/sdk-metrics').map(version);
    expect(
      sdkMetrics.every((v) => v.startsWith(line3 ? '3.' : '2.')),
      sdkMetrics.join(),
    ).to.equal(true);
    await npm(dir, 'ls', '@opentelemetry/api', '--all');
  });

  it('a strict TypeScript consumer type-checks without @types/koa or @types/node', async () => {
    const dir = tempDir();
    const options = {
      strict: true,
      module: 'node16',
      moduleResolution: 'node16',
      target: 'ES2022',
      lib: ['ES2023'],
      types: [],
      noEmit: true,
    };
    await consumer(dir, tarball, ['typescript@5.9.3'], {
      // tsc --init's default: the consumer's own code checked, libraries' declarations trusted.
      'tsconfig.json': JSON.stringify({
        compilerOptions: { ...options, skipLibCheck: true },
        include: ['consumer.ts'],
      }),
      // Every declaration file checked too.
      'tsconfig.libs.json': JSON.stringify({
        compilerOptions: { ...options, skipLibCheck: false },
        include: ['consumer.ts'],
      }),
      'consumer.ts': `import { createMetrics, preloaded, type KoaMiddleware, type ScanopyEvent } from 'scanopy-metrics';

const metrics = createMetrics({ token: 'change-me', path: '/metrics' });
const event: ScanopyEvent = { kind: 'entity', entityType: 'Host', operation: 'created' };
metrics.recordEvent(event);
const middleware: KoaMiddleware[] = [metrics.route(), metrics.middleware()];
const observed: string = preloaded()?.observer.name ?? 'not preloaded';
// The types are real, not any: each line below must be an error.
// @ts-expect-error a token is a string or a list of strings
createMetrics({ token: 42 });
// @ts-expect-error the path is a string
const path: number = metrics.path;
export { middleware, observed, path };
`,
    });
    expect(copiesOf(dir, '@types/node')).to.deep.equal([]);
    expect(copiesOf(dir, '@types/koa')).to.deep.equal([]);
    const tsc = async (project: string): Promise<string> => {
      const compiler = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
      try {
        await run(process.execPath, [compiler, '-p', project], { cwd: dir, env: npmEnv() });
        return '';
      } catch (error) {
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        return `${stdout ?? ''}${stderr ?? ''}`;
      }
    };
    expect(await tsc('tsconfig.json')).to.equal('');
    // OpenTelemetry's own declarations name Node's `console` and `path`; the package's name
    // nothing the consumer has not got.
    const ours = (await tsc('tsconfig.libs.json'))
      .split('\n')
      .filter((line) => line.includes('node_modules/scanopy-metrics/'));
    expect(ours).to.deep.equal([]);
  });

  it('a strict TypeScript Koa service: app.use() and router.use() take the middleware', async () => {
    const dir = tempDir();
    await consumer(
      dir,
      tarball,
      ['typescript@5.9.3', 'koa@3.3.0', '@koa/router@15.7.0', '@types/koa@3.0.3'],
      {
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'node16',
            moduleResolution: 'node16',
            target: 'ES2022',
            skipLibCheck: true,
            noEmit: true,
          },
          include: ['service.ts'],
        }),
        'service.ts': `import Koa from 'koa';
import { Router } from '@koa/router';
import { createMetrics } from 'scanopy-metrics';

const metrics = createMetrics({ token: 'change-me' });
const app = new Koa();
const router = new Router();
router.use(metrics.middleware());
router.get('/hosts/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
app.use(metrics.middleware()).use(metrics.route()).use(router.routes());
export { app };
`,
      },
    );
    const compiler = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [compiler, '-p', 'tsconfig.json'], { cwd: dir, env: npmEnv() });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`tsc failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  });
});
