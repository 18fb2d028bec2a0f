// OTEL_SDK_DISABLED=true, SCANOPY_METRICS_DISABLED=true or `disabled: true` in the file: the
// preload does nothing at all, so /metrics falls through to the service's own 404.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import type { ChildService } from './helpers/child';
import {
  TOKEN,
  WITHOUT_AND_WITH_TOKEN,
  expectMetricsRouteAnswers,
  get,
  scrapeChild,
} from './helpers/preloaded-service';

const VARIANTS = [
  { title: 'CommonJS service with --require', file: 'service.cjs', nodeArgs: REQUIRE_PRELOAD },
  { title: 'ES-module service with --import', file: 'service.mjs', nodeArgs: IMPORT_PRELOAD },
];

describe('preload switched off', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  for (const variant of VARIANTS) {
    describe(variant.title, () => {
      /** The variant's service, preloaded, with the token and `env`. */
      const start = (env: Record<string, string> = {}, cwd?: string): Promise<ChildService> =>
        children.start({
          fixture: fixture(variant.file),
          nodeArgs: variant.nodeArgs,
          env: { SCANOPY_METRICS_TOKEN: TOKEN, ...env },
          cwd,
        });

      for (const [name, value] of [
        ['OTEL_SDK_DISABLED', 'true'],
        ['OTEL_SDK_DISABLED', 'TRUE'],
        ['SCANOPY_METRICS_DISABLED', 'true'],
      ]) {
        it(`${name}=${value}: /metrics is the service's own 404, nothing is patched`, async () => {
          const service = await start({ [name]: value });
          await expectMetricsRouteAnswers(service.url, WITHOUT_AND_WITH_TOKEN, 404, 'Not Found');
          const hosts = await get(service.url, '/api/v1/hosts/1');
          expect(hosts.status).to.equal(200);
          // With the reject-everything middleware on, even /metrics gets the service's 403.
          const rejecting = await start({ [name]: value, FIXTURE_REJECT_ALL: '1' });
          const scrape = await get(rejecting.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
          expect(scrape.status).to.equal(403);
          expect(scrape.body).to.equal('Forbidden by the service');
          await service.stop();
          await rejecting.stop();
          expect(service.stderr()).to.equal('');
          expect(rejecting.stderr()).to.equal('');
        });
      }

      it('`disabled: true` in otel-config.yaml does the same', async () => {
        const cwd = children.tempDir();
        writeFileSync(path.join(cwd, 'otel-config.yaml'), "file_format: '1.0'\ndisabled: true\n");
        const service = await start({}, cwd);
        const response = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
        expect(response.status).to.equal(404);
        expect(response.body).to.equal('Not Found');
      });

      it('OTEL_SDK_DISABLED=false and SCANOPY_METRICS_DISABLED=false leave the preload on', async () => {
        const service = await start({
          OTEL_SDK_DISABLED: 'false',
          SCANOPY_METRICS_DISABLED: 'false',
        });
        const text = await scrapeChild(service.url);
        expect(text).to.contain('# TYPE http_requests_total counter');
      });
    });
  }
});
