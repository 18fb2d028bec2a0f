// The package as users get it: `npm pack`'s tarball, installed with npm into fresh consumer
// projects (Koa 2 with the legacy koa-router, Koa 3 with @koa/router, Egg 3 and Egg 4, a host with
// its own OpenTelemetry SDK, on this Node and on Node 24 with the 3.x line, strict TypeScript
// projects), each started or compiled as its users would.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from './helpers/chai';
import { Children, fixture, makeTempDir, REPO, removeTempDir } from './helpers/child';
import { sample } from './helpers/exposition';

const run = promisify(execFile);
const TOKEN = 'consumer-token-7f3a9c2e41';

/** The directory of the node that runs these tests. */
const THIS_NODE = path.dirname(process.execPath);

/**
 * The test's environment without npm's own variables (an npm script's) or the package's, with
 * the node of `bin` first on PATH.
 */
function npmEnv(bin: string = THIS_NODE): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|SCANOPY_|OTEL_)/i.test(name)) env[name] = value;
  }
  // npm runs under the node first on PATH, so it resolves dependencies by that node's engines.
  env.PATH = `${bin}${path.delimiter}${env.PATH ?? ''}`;
  return env;
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  return npmWith(THIS_NODE, cwd, ...args);
}

/** npm run by the node of `bin` (its directory). */
async function npmWith(bin: string, cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('npm', args, {
      cwd,
      env: npmEnv(bin),
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
  bin: string = THIS_NODE,
): Promise<void> {
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  await npmWith(
    bin,
    dir,
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    tarball,
    ...deps,
  );
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

/** An OTel host: its own NodeSDK started first, then Koa; says which api file each party loads. */
const OTEL_HOST_SERVER = `'use strict';
const path = require('node:path');
const { NodeSDK } = require('@opentelemetry/sdk-node');

// Spans kept nowhere: the SDK runs, and nothing is sent anywhere.
const spans = { export: (batch, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
new NodeSDK({ instrumentations: [], traceExporter: spans }).start();
const { trace } = require('@opentelemetry/api');
const Koa = require('koa');
const { Router } = require('@koa/router');

const apiFrom = (file) => require.resolve('@opentelemetry/api', { paths: [path.dirname(file)] });
const router = new Router({ prefix: '/api' });
router.get('/items/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
router.get('/api-files', (ctx) => {
  ctx.body = {
    recording: trace.getTracer('host').startSpan('probe').isRecording(),
    host: require.resolve('@opentelemetry/api'),
    sdk: apiFrom(require.resolve('@opentelemetry/sdk-node')),
    sdkMetrics: apiFrom(require.resolve('@opentelemetry/sdk-metrics', { paths: [path.dirname(require.resolve('@opentelemetry/sdk-node'))] })),
    package: apiFrom(require.resolve('scanopy-metrics')),
  };
});
const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

/** The directory of a node binary of `major`, from the project's own script (cached). */
function nodeOfMajor(major: number): string {
  const out = execFileSync('bash', [path.join(REPO, 'scripts', 'ensure-node.sh'), String(major)], {
    encoding: 'utf8',
    env: npmEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.trim().split('\n').pop()!;
}

/** The Egg fixture app's traffic: /post/new twice, /post/7, one 404, then the scrape's text. */
async function eggTrafficAndScrape(url: string): Promise<string> {
  for (const [page, body] of [
    ['/post/new', 'new post form'],
    ['/post/new', 'new post form'],
    ['/post/7', 'post 7'],
  ]) {
    const res = await fetch(`${url}${page}`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal(body);
  }
  expect((await fetch(`${url}/no/such/page`)).status).to.equal(404);
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).to.equal(200);
  return res.text();
}

function expectEggLabels(text: string): void {
  const at = (path: string, status: string): number | undefined =>
    sample(text, 'http_requests_total', { method: 'GET', path, status, entity_type: 'anonymous' });
  expect(at('/post/new', '200')).to.equal(2);
  expect(at('/post/:id', '200')).to.equal(1);
  expect(at('unmatched', '404')).to.equal(1);
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

  it('on Node 24, a host with the 3.x line of @opentelemetry/sdk-node has exactly one @opentelemetry/api', async () => {
    const node24 = nodeOfMajor(24);
    const dir = tempDir();
    await consumer(
      dir,
      tarball,
      ['@opentelemetry/sdk-node@0.301.0', 'koa@3.3.0', '@koa/router@15.7.0'],
      { 'host.js': OTEL_HOST_SERVER },
      node24,
    );
    const api = copiesOf(dir, '@opentelemetry/api').map(version);
    expect(api, api.join()).to.have.length(1);
    expect(api[0]).to.match(/^1\.10\./);
    for (const name of ['@opentelemetry/sdk-metrics', '@opentelemetry/core']) {
      const versions = copiesOf(dir, name).map(version);
      expect(
        versions.length > 0 && versions.every((v) => v.startsWith('3.')),
        `${name}: ${versions.join()}`,
      ).to.equal(true);
    }
    await npmWith(node24, dir, 'ls', '@opentelemetry/api', '--all');
    // At run time too: the host, its SDK and the package load the same file.
    const service = await children.start({
      fixture: path.join(dir, 'host.js'),
      execPath: path.join(node24, 'node'),
      nodeArgs: ['--require', 'scanopy-metrics/register'],
      cwd: dir,
      env: {
        SCANOPY_METRICS_TOKEN: TOKEN,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
    });
    const { recording, ...files } = (await (
      await fetch(`${service.url}/api/api-files`)
    ).json()) as Record<string, unknown>;
    // The host's SDK is the global one (its spans record), and all load one api file.
    expect(recording).to.equal(true);
    expect(Object.keys(files)).to.have.length(4);
    expect(new Set(Object.values(files)).size, JSON.stringify(files)).to.equal(1);
    expectRouteLabels(await trafficAndScrape(service.url));
    expect(service.stderr()).to.equal('');
  });

  it("Egg 3 (koa 2), --require: one koa, the Egg router's patterns", async () => {
    const dir = tempDir();
    cpSync(fixture('egg-app'), dir, { recursive: true });
    await consumer(dir, tarball, ['egg@3.34.0'], {});
    const koa = copiesOf(dir, 'koa').map(version);
    expect(koa, koa.join()).to.have.length(1);
    expect(koa[0]).to.match(/^2\./);
    const run = tempDir();
    const service = await children.start({
      fixture: path.join(dir, 'start.cjs'),
      nodeArgs: ['--require', 'scanopy-metrics/register'],
      cwd: dir,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_EGG: 'egg', FIXTURE_EGG_RUN: run, HOME: run },
    });
    expectEggLabels(await eggTrafficAndScrape(service.url));
    expect(service.stderr()).to.equal('');
  });

  it("Egg 4 (@eggjs/koa), --require and --import: no koa of its own, the Egg router's patterns", async () => {
    const dir = tempDir();
    cpSync(fixture('egg-app'), dir, { recursive: true });
    await consumer(dir, tarball, ['egg@4.0.10'], {});
    expect(copiesOf(dir, '@eggjs/koa')).to.have.length(1);
    // koa is an optional peer: the package brings no copy of its own.
    expect(copiesOf(path.join(dir, 'node_modules', 'scanopy-metrics'), 'koa')).to.deep.equal([]);
    for (const [start, preload] of [
      ['start.cjs', '--require'],
      ['start.mjs', '--import'],
    ]) {
      const run = tempDir();
      const service = await children.start({
        fixture: path.join(dir, start),
        nodeArgs: [preload, 'scanopy-metrics/register'],
        cwd: dir,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_EGG: 'egg', FIXTURE_EGG_RUN: run, HOME: run },
      });
      expectEggLabels(await eggTrafficAndScrape(service.url));
      expect(service.stderr(), start).to.equal('');
      await service.stop();
    }
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
