// preloaded(): code that wants it reaches the instance the preload started, for example to
// subscribe its observer to the service's own event bus (fixture live-instance.cjs).
import { expect } from './helpers/chai';
import { Children, DIST, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { eventsTotal, series } from './helpers/exposition';
import { TOKEN, get, post, scrapeChild } from './helpers/preloaded-service';

describe('the live instance: preloaded()', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  for (const [how, nodeArgs] of [
    ['--require', REQUIRE_PRELOAD],
    ['--import', IMPORT_PRELOAD],
  ] as const) {
    it(`with ${how}: its observer, subscribed to the service's own bus, counts each event`, async () => {
      const service = await children.start({
        fixture: fixture('live-instance.cjs'),
        nodeArgs,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, PACKAGE_DIST: DIST, SCANOPY_METRICS_PATH: '/m' },
      });
      expect(JSON.parse((await get(service.url, '/instance')).body)).to.deep.equal({
        preloaded: true,
        path: '/m',
        subscriber: 'metrics',
      });
      await post(service.url, '/bus?n=5');
      await post(service.url, '/bus?n=2&entityType=Host&operation=deleted');
      const text = await scrapeChild(service.url, TOKEN, '/m');
      expect(eventsTotal(text, 'Network', 'updated')).to.equal(5);
      expect(eventsTotal(text, 'Host', 'deleted')).to.equal(2);
      expect(series(text, 'scanopy_events_total')).to.have.length(2);
      expect(service.stderr()).to.equal('');
    });
  }

  it('is undefined when the preload is switched off (OTEL_SDK_DISABLED=true)', async () => {
    const service = await children.start({
      fixture: fixture('live-instance.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, PACKAGE_DIST: DIST, OTEL_SDK_DISABLED: 'true' },
    });
    expect(JSON.parse((await get(service.url, '/instance')).body)).to.deep.equal({
      preloaded: false,
    });
  });

  it('is undefined without the preload', async () => {
    const service = await children.start({
      fixture: fixture('live-instance.cjs'),
      env: { SCANOPY_METRICS_TOKEN: TOKEN, PACKAGE_DIST: DIST },
    });
    expect(JSON.parse((await get(service.url, '/instance')).body)).to.deep.equal({
      preloaded: false,
    });
    const response = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(response.status).to.equal(404);
    expect(response.body).to.equal('Not Found');
  });
});
