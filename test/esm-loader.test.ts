// `--import` starts Node's ES-module loader thread only for an ES-module build that needs it. On a
// Node without synchronous module hooks (Node 20) that thread is most of what --import costs a
// start-up: a Koa ES-module service gets koa patched through koa's CommonJS build instead (its ES
// entry point imports it, and Node loads it through require()'s loader), and the thread starts
// only when @eggjs/koa, whose ES-module build only a loader can patch, is installed. On a Node
// with synchronous hooks no thread is ever started. Worker threads are counted by a probe
// preloaded first (worker-probe.cjs); the services are real child processes, scraped.
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, DIST, IMPORT_PRELOAD, REPO, fixture } from './helpers/child';
import { sample, series } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';
import { nodeHasSyncHooks } from './helpers/sync-hooks';

const WITH_PROBE = ['--require', fixture('worker-probe.cjs'), ...IMPORT_PRELOAD];

interface Loaded {
  packages: string[];
  own: string[];
  workers: number;
}

async function loaded(url: string): Promise<Loaded> {
  const response = await get(url, '/loaded');
  expect(response.status).to.equal(200);
  return JSON.parse(response.body) as Loaded;
}

describe('--import: an ES-module loader thread only for an ES-module build that needs it', () => {
  const children = new Children();
  afterEach(() => children.stopAll());
  let syncHooks: boolean;
  before(async () => {
    syncHooks = await nodeHasSyncHooks();
  });

  /** A service directory of its own: the ES-module app and a node_modules with `packages`. */
  function serviceDir(packages: string[]): string {
    const dir = children.tempDir();
    for (const name of packages) {
      const link = path.join(dir, 'node_modules', ...name.split('/'));
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(REPO, 'node_modules', ...name.split('/')), link);
    }
    copyFileSync(fixture('loaded-modules.mjs'), path.join(dir, 'app.mjs'));
    return dir;
  }

  async function startIn(dir: string) {
    return children.start({
      fixture: path.join(dir, 'app.mjs'),
      cwd: dir,
      nodeArgs: WITH_PROBE,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_DIST: DIST },
    });
  }

  it('koa alone installed: no thread and no import-in-the-middle without sync hooks; koa patched', async () => {
    const service = await startIn(serviceDir(['koa']));
    const { packages, own, workers } = await loaded(service.url);
    expect(workers).to.equal(0);
    // With sync hooks, import-in-the-middle's in-thread hooks; without, nothing of it.
    expect(packages.includes('import-in-the-middle')).to.equal(syncHooks);
    expect(own.includes('preload/es-module-builds.js')).to.equal(!syncHooks);
    expect(packages.filter((name) => name.startsWith('@opentelemetry/'))).to.deep.equal([]);
    const text = await scrapeChild(service.url);
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: 'unmatched',
        status: '200',
        entity_type: 'anonymous',
      }),
    ).to.equal(1);
    expect(service.stderr()).to.equal('');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
  });

  it('@eggjs/koa installed too: the loader thread without sync hooks, koa patched either way', async () => {
    const service = await startIn(serviceDir(['koa', '@eggjs/koa']));
    const { packages, workers } = await loaded(service.url);
    expect(workers).to.equal(syncHooks ? 0 : 1);
    expect(packages).to.include('import-in-the-middle');
    const text = await scrapeChild(service.url);
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: 'unmatched',
        status: '200',
        entity_type: 'anonymous',
      }),
    ).to.equal(1);
    expect(service.stderr()).to.equal('');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
  });

  it("Egg 4 imported as an ES module: @eggjs/koa's ES-module build patched, the Egg router's patterns", async () => {
    const run = children.tempDir();
    const workersFile = path.join(run, 'workers');
    const service = await children.start({
      fixture: fixture('egg-app/start.mjs'),
      nodeArgs: WITH_PROBE,
      env: {
        SCANOPY_METRICS_TOKEN: TOKEN,
        FIXTURE_EGG_RUN: run,
        HOME: run,
        WORKERS_AT_EXIT: workersFile,
      },
    });
    expect((await get(service.url, '/post/new')).body).to.equal('new post form');
    expect((await get(service.url, '/post/9')).body).to.equal('post 9');
    const text = await scrapeChild(service.url);
    const requests = (pattern: string) => ({
      name: 'http_requests_total',
      labels: { method: 'GET', path: pattern, status: '200', entity_type: 'anonymous' },
      value: 1,
    });
    expect(series(text, 'http_requests_total')).to.have.deep.members([
      requests('/post/new'),
      requests('/post/:id'),
    ]);
    expect(series(text, 'http_requests_total')).to.have.length(2);
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(readFileSync(workersFile, 'utf8')).to.equal(syncHooks ? '0' : '1');
    expect(service.stderr()).to.equal('');
  });
});
