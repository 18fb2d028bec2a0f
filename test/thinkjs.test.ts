// ThinkJS 4 (koa 3 with think-router), preloaded as users start a service: ThinkJS runs a master
// and one worker (node:cluster); the worker's requests carry the configured rule that matched,
// `/post/new` configured before `/post/:id` included, and requests no rule matched (ThinkJS's
// default router, resolving the controller from the URL) stay `unmatched`.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, REPO, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { series } from './helpers/exposition';
import { TOKEN, get, scrapeChild } from './helpers/preloaded-service';

const requests = (path: string, status: string, value: number) => ({
  name: 'http_requests_total',
  labels: { method: 'GET', path, status, entity_type: 'anonymous' },
  value,
});

/** stderr without the DEP0176 lines think-helper's fs.R_OK causes on Node 24 and later. */
function withoutThinkHelperWarning(stderr: string): string {
  return stderr.replace(
    /^\(node:\d+\) \[DEP0176\] DeprecationWarning: fs\.R_OK is deprecated, use fs\.constants\.R_OK instead\n\(Use `node --trace-deprecation \.\.\.` to show where the warning was created\)\n/gm,
    '',
  );
}

describe('ThinkJS 4, preloaded', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  it('is the version this test means (4.0.0)', () => {
    const file = path.join(REPO, 'node_modules', 'thinkjs', 'package.json');
    expect((JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version).to.equal(
      '4.0.0',
    );
  });

  it("labels each request with the configured rule's pattern, the default router unmatched", async () => {
    const service = await children.start({
      fixture: fixture('think-app/production.js'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, FIXTURE_THINK_RUN: children.tempDir() },
    });
    for (const [url, body] of [
      ['/post/new', 'new post form'],
      ['/post/new', 'new post form'],
      ['/post/7', 'post 7'],
      ['/api/v1/hosts/3', 'host 3'],
      // No rule matches: the default router serves controller post, action show.
      ['/post/show/extra', 'post undefined'],
    ]) {
      const response = await get(service.url, url);
      expect(response.status, url).to.equal(200);
      expect(response.body, url).to.equal(body);
    }
    expect((await get(service.url, '/no/such/page')).status).to.equal(404);
    const text = await scrapeChild(service.url);
    expect(series(text, 'http_requests_total')).to.have.deep.members([
      requests('/post/new', '200', 2),
      requests('/post/:id', '200', 1),
      requests(String(/^\/api\/v1\/hosts\/(\d+)$/), '200', 1),
      requests('unmatched', '200', 1),
      requests('unmatched', '404', 1),
    ]);
    expect(series(text, 'http_requests_total')).to.have.length(5);
    // ThinkJS logs its start on stdout; nothing from the package on stderr. From Node 24 on,
    // think-helper's own use of fs.R_OK (DEP0176) warns in each process; the package uses none.
    expect(withoutThinkHelperWarning(service.stderr())).to.equal('');
  });
});
