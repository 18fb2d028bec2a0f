// Egg.js, preloaded as users start a service (`node --require scanopy-metrics/register`): Egg 3
// runs on koa 2, Egg 4 on its fork @eggjs/koa. A minimal Egg app in Egg's single-process mode
// (`egg.start`) serves the metrics route, and its requests carry the pattern of the Egg router's
// route that served them.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REPO, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { series } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

const EGGS = [
  { title: 'Egg 3 (koa 2)', module: 'egg-3', version: '3.34.0' },
  { title: 'Egg 4 (@eggjs/koa)', module: 'egg', version: '4.0.10' },
];

const requests = (path: string, status: string, value: number) => ({
  name: 'http_requests_total',
  labels: { method: 'GET', path, status, entity_type: 'anonymous' },
  value,
});

for (const egg of EGGS) {
  describe(`${egg.title}, preloaded`, () => {
    const children = new Children();
    afterEach(() => children.stopAll());

    const eggDir = path.join(REPO, 'node_modules', egg.module);

    it(`is the version this test means (${egg.version})`, () => {
      const pkg = JSON.parse(readFileSync(path.join(eggDir, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(pkg.version).to.equal(egg.version);
    });

    it('serves the route and labels each request with the route that served it', async () => {
      // Egg writes logs and run files under HOME and its rundir: keep them in a temporary one.
      const dir = children.tempDir();
      const service = await children.start({
        fixture: fixture('egg-app/start.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: {
          SCANOPY_METRICS_TOKEN: TOKEN,
          FIXTURE_EGG: eggDir,
          FIXTURE_EGG_RUN: dir,
          HOME: dir,
        },
      });
      const refused = await get(service.url, '/metrics');
      expect(refused.status).to.equal(401);
      expect(refused.body).to.equal('Invalid or missing token');
      for (const [url, body] of [
        ['/post/new', 'new post form'],
        ['/post/new', 'new post form'],
        ['/post/7', 'post 7'],
        ['/api/v1/hosts/3', 'host 3'],
      ]) {
        const response = await get(service.url, url);
        expect(response.status).to.equal(200);
        expect(response.body).to.equal(body);
      }
      expect((await get(service.url, '/no/such/page')).status).to.equal(404);
      const text = await scrapeChild(service.url);
      expect(series(text, 'http_requests_total')).to.have.deep.members([
        requests('/metrics', '401', 1),
        requests('/post/new', '200', 2),
        requests('/post/:id', '200', 1),
        requests('/api/v1/hosts/:id', '200', 1),
        requests('unmatched', '404', 1),
      ]);
      expect(series(text, 'http_requests_total')).to.have.length(5);
      expect(service.stderr()).to.equal('');
      expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    });
  });
}

describe('Egg 4 as an ES module, preloaded with --import', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('patches the ES-module build of @eggjs/koa too', async () => {
    const dir = children.tempDir();
    const service = await children.start({
      fixture: fixture('egg-app/start.mjs'),
      nodeArgs: IMPORT_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_EGG_RUN: dir, HOME: dir },
    });
    expect((await get(service.url, '/post/new')).body).to.equal('new post form');
    expect((await get(service.url, '/post/9')).body).to.equal('post 9');
    const text = await scrapeChild(service.url);
    expect(series(text, 'http_requests_total')).to.have.deep.members([
      requests('/post/new', '200', 1),
      requests('/post/:id', '200', 1),
    ]);
    expect(series(text, 'http_requests_total')).to.have.length(2);
    expect(service.stderr()).to.equal('');
  });
});
