// Where the preload cannot instrument the service, it says so once on stderr instead of silently
// counting nothing: an ES-module service started with --require (koa is imported, never
// required), and a service on no Koa at all. A service it does instrument hears nothing.
import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { TOKEN, get } from './helpers/preloaded-service';
import { NOT_INSTRUMENTED, NOT_LOADED_THROUGH_REQUIRE } from '../src/preload/uninstrumented';

describe('preload: a service it cannot instrument', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('an ES-module service started with --require: one line saying to use --import', async () => {
    const service = await children.start({
      fixture: fixture('service.mjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN },
    });
    expect(service.stderr()).to.equal('');
    for (let i = 0; i < 3; i++) {
      const response = await get(service.url, '/api/v1/hosts/1');
      expect(response.status).to.equal(200);
    }
    // Not the package's route: the service's own 404.
    const scrape = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(scrape.status).to.equal(404);
    expect(scrape.body).to.equal('Not Found');
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(service.stderrLines()).to.deep.equal([NOT_LOADED_THROUGH_REQUIRE]);
    expect(NOT_LOADED_THROUGH_REQUIRE).to.contain('--import scanopy-metrics/register');
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
