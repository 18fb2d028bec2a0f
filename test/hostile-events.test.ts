// Nothing a publisher passes escapes the scanopy:events handler or the bus observer: a revoked
// Proxy, throwing index getters, a Proxy whose length throws or lies. Each is counted (a message or
// element that cannot be read as unknown/unknown), never dropped, never thrown, and the host
// process, a preloaded service in a child process, keeps running.
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import type { ChildService } from './helpers/child';
import { eventsTotal, series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import { scrapeChild, TOKEN } from './helpers/preloaded-service';

/** Each hostile message, and what it counts: [unknown/unknown, Host/created]. */
const CASES: [string, number, number][] = [
  ['revoked-proxy', 1, 0],
  ['revoked-array-proxy', 1, 0],
  ['throwing-index', 1, 1],
  ['throwing-length', 1, 0],
  ['huge-length', 1, 0],
  ['string-length', 1, 0],
  ['throwing-iterator', 0, 1],
  ['every-trap-throws', 1, 0],
  ['revoked-element', 1, 1],
  ['throwing-fields', 1, 0],
  ['hostile-to-primitive', 1, 0],
];

describe('hostile events do not escape', function () {
  this.timeout(30_000);
  const children = new Children();

  async function publish(service: ChildService, name: string, to: 'channel' | 'bus') {
    const answer = await rawRequest(service.url, {
      method: 'POST',
      path: `/hostile?case=${name}&to=${to}`,
    });
    expect(answer.status, `${name} to the ${to}: ${service.stderr()}`).to.equal(200);
    expect(answer.body).to.equal('published');
    // The process is still there after whatever was queued behind the publish.
    await new Promise((resolve) => setImmediate(resolve));
    const alive = await rawRequest(service.url, { path: '/alive' });
    expect(alive.body, `alive after ${name} to the ${to}`).to.equal('alive');
  }

  describe('one host process for every case', () => {
    let service: ChildService;
    before(async () => {
      service = await children.start({
        fixture: fixture('hostile-events.cjs'),
        nodeArgs: REQUIRE_PRELOAD,
        env: { SCANOPY_METRICS_TOKEN: TOKEN, OTEL_LOG_LEVEL: 'none' },
      });
    });
    after(() => children.stopAll());

    const count = (text: string, entity: string, operation: string): number =>
      series(text, 'scanopy_events_total').some(
        (s) => s.labels.entity === entity && s.labels.operation === operation,
      )
        ? eventsTotal(text, entity, operation)
        : 0;

    for (const [name, unknown, valid] of CASES) {
      it(`${name}, twice to the channel and twice to the bus: ${4 * unknown} unknown/unknown and ${4 * valid} Host/created more, the host lives`, async () => {
        const before = await scrapeChild(service.url);
        for (const to of ['channel', 'bus', 'channel', 'bus'] as const) {
          await publish(service, name, to);
        }
        const after = await scrapeChild(service.url);
        expect(count(after, 'unknown', 'unknown') - count(before, 'unknown', 'unknown')).to.equal(
          4 * unknown,
        );
        expect(count(after, 'Host', 'created') - count(before, 'Host', 'created')).to.equal(
          4 * valid,
        );
        expect(service.process.exitCode).to.equal(null);
        expect(service.stderr()).to.equal('');
      });
    }
  });

  it('all of them, one after the other, into one process: exact totals, no exit', async () => {
    const service = await children.start({
      fixture: fixture('hostile-events.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: TOKEN, OTEL_LOG_LEVEL: 'none' },
    });
    for (const to of ['channel', 'bus'] as const) {
      for (const [name] of CASES) await publish(service, name, to);
    }
    const text = await scrapeChild(service.url);
    const unknown = CASES.reduce((sum, [, u]) => sum + u, 0);
    const valid = CASES.reduce((sum, [, , v]) => sum + v, 0);
    expect(eventsTotal(text, 'unknown', 'unknown')).to.equal(2 * unknown);
    expect(eventsTotal(text, 'Host', 'created')).to.equal(2 * valid);
    expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
    expect(service.stderr()).to.equal('');
    await children.stopAll();
  });
});
