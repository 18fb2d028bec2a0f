// Where the preload cannot instrument the service, it says so once on stderr instead of silently
// counting nothing: Egg 4's ES-module build started with --require (only --import hooks it), and
// a service on no Koa at all. A service it does instrument hears nothing, a Koa ES-module service
// started with --require included.
import { copyFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { sample } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';
import { nodeHasSyncHooks } from './helpers/sync-hooks';
import {
  NOT_INSTRUMENTED,
  NOT_INSTRUMENTED_NO_LOADER,
  NOT_INSTRUMENTED_WITH_REQUIRE,
} from '../src/preload/uninstrumented';

describe('preload: a service it cannot instrument', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('Egg 4 as an ES module started with --require: one line saying to use --import', async () => {
    // Egg's ES-module build runs on @eggjs/koa's, which only --import's ES-module hook patches.
    const run = children.tempDir();
    const service = await children.start({
      fixture: fixture('egg-app/start.mjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_EGG_RUN: run, HOME: run },
    });
    expect(service.stderr()).to.equal('');
    for (let i = 0; i < 3; i++) {
      expect((await get(service.url, '/post/new')).body).to.equal('new post form');
    }
    // Not the package's route: Egg's own 404.
    const scrape = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(scrape.status).to.equal(404);
    await service.stop();
    expect(service.stderrLines()).to.deep.equal([NOT_INSTRUMENTED_WITH_REQUIRE]);
    expect(NOT_INSTRUMENTED_WITH_REQUIRE).to.contain('--import scanopy-metrics/register');
  });

  it("a Koa ES-module service started with --require: koa's CommonJS build is patched all the same", async () => {
    // koa's ES entry point imports its CommonJS build, which Node loads through require()'s loader.
    const service = await children.start({
      fixture: fixture('service.mjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
    const text = await scrapeChild(service.url);
    expect(
      sample(text, 'http_requests_total', {
        method: 'GET',
        path: '/api/v1/hosts/:id',
        status: '200',
        entity_type: 'anonymous',
      }),
    ).to.equal(1);
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(service.stderr()).to.equal('');
  });

  it('a service on node:http without Koa, with --import: one line saying what is patched', async () => {
    const service = await children.start({
      fixture: fixture('plain-http.cjs'),
      nodeArgs: IMPORT_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    for (let i = 0; i < 3; i++) expect((await get(service.url, '/')).body).to.equal('plain');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(service.stderrLines()).to.deep.equal([NOT_INSTRUMENTED]);
  });

  it('a service on node:http without Koa, with --import, no @eggjs/koa installed: one line saying what is hooked', async () => {
    // Started where no @eggjs/koa is installed: a Node without synchronous module hooks starts
    // no ES-module loader thread, and the line says when it would have.
    const dir = children.tempDir();
    copyFileSync(fixture('plain-http.cjs'), path.join(dir, 'plain-http.cjs'));
    const service = await children.start({
      fixture: path.join(dir, 'plain-http.cjs'),
      cwd: dir,
      nodeArgs: IMPORT_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    for (let i = 0; i < 3; i++) expect((await get(service.url, '/')).body).to.equal('plain');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(service.stderrLines()).to.deep.equal([
      (await nodeHasSyncHooks()) ? NOT_INSTRUMENTED : NOT_INSTRUMENTED_NO_LOADER,
    ]);
  });

  for (const [title, name, nodeArgs] of [
    ['a CommonJS Koa service with --require', 'service.cjs', REQUIRE_PRELOAD],
    ['an ES-module Koa service with --import', 'service.mjs', IMPORT_PRELOAD],
  ] as const) {
    it(`${title}: nothing on stderr`, async () => {
      const service = await children.start({
        fixture: fixture(name),
        nodeArgs,
        env: { SCANOPY_METRICS_TOKEN: TOKEN },
      });
      for (let i = 0; i < 3; i++) {
        expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
      }
      expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
      expect(service.stderr()).to.equal('');
    });
  }
});
