// The remembered-address table of the failed-authentication limit cannot be flushed: failures
// from more distinct addresses than it holds (12,000 real client addresses, 127.1.x.y) evict
// addresses that are not limited, never one that is, and the table stays bounded. When every slot
// holds a limited address, new addresses share one overflow budget rather than get fresh ones.
import Koa from 'koa';

import { TokenSet } from '../src/auth/bearer';
import { FailureLimiter } from '../src/auth/rate-limit';
import { metricsRoute } from '../src/route/route';
import { expect } from './helpers/chai';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { listen } from './helpers/server';
import type { ListeningServer } from './helpers/server';

const TOKEN = 'eviction-token-51c0e8d2';

function get(url: string, token: string | undefined, localAddress: string): Promise<RawResponse> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return rawRequest(url, { path: '/metrics', headers, localAddress });
}

/** The n-th address of 127.1.0.0/16 and up (127.1.0.1, 127.1.0.2, ...). */
function address(n: number): string {
  const v = n + 1;
  return `127.${1 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

describe('rate limiter: the address table cannot be flushed', function () {
  this.timeout(300_000);
  let server: ListeningServer;
  afterEach(() => server.close());

  it('failures from 12,000 other addresses do not free a limited address; at most 10,000 are remembered', async () => {
    // The route as createMetrics builds it, with a window of an hour so that however long the
    // 12,000 requests take on a busy machine, no window ends during the test.
    const limiter = new FailureLimiter({ limit: 3, windowMs: 3_600_000 });
    const app = new Koa();
    app.use(
      metricsRoute({
        tokens: () => new TokenSet([TOKEN]),
        limiter,
        scrape: () => Promise.resolve('# EOF\n'),
      }),
    );
    server = await listen(app);
    const limited = '127.0.0.20';
    for (let i = 0; i < 3; i++) {
      expect((await get(server.url, 'wrong', limited)).status).to.equal(401);
    }
    expect((await get(server.url, TOKEN, limited)).status).to.equal(429);

    // 12,000 distinct real client addresses, one failure each, 32 at a time.
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 12_000) {
        const n = next++;
        const answer = await get(server.url, `guess-${n}`, address(n));
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(Object.fromEntries(statuses)).to.deep.equal({ 401: 12_000 });
    expect(limiter.size).to.equal(10_000);

    // Still limited, whatever it sends; another address still gets in with the token.
    expect((await get(server.url, 'wrong', limited)).status).to.equal(429);
    expect((await get(server.url, TOKEN, limited)).status).to.equal(429);
    expect((await get(server.url, TOKEN, '127.0.0.21')).status).to.equal(200);
    // The last addresses are remembered with their one failure; the first ones made room.
    expect(limiter.retryAfter(address(11_999))).to.equal(0);
    limiter.recordFailure(address(11_999));
    limiter.recordFailure(address(11_999));
    expect(limiter.retryAfter(address(11_999))).to.be.greaterThan(0);
    expect(limiter.size).to.equal(10_000);
  });
});

describe('FailureLimiter eviction', () => {
  function clock(start = 1_000_000) {
    const c = { t: start, now: () => c.t };
    return c;
  }

  it('evicts the oldest address that is not limited, never a limited one', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 2, maxClients: 3, now: c.now });
    limiter.recordFailure('limited');
    limiter.recordFailure('limited');
    expect(limiter.retryAfter('limited')).to.equal(60);
    for (let i = 0; i < 100; i++) limiter.recordFailure(`passer-${i}`);
    expect(limiter.size).to.equal(3);
    expect(limiter.retryAfter('limited')).to.equal(60);
    // The two most recent passers are remembered, with their one failure each.
    limiter.recordFailure('passer-99');
    expect(limiter.retryAfter('passer-99')).to.equal(60);
    limiter.recordFailure('passer-0');
    expect(limiter.retryAfter('passer-0')).to.equal(0);
  });

  it('when every slot holds a limited address, new addresses share one budget of `limit` failures', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 2, maxClients: 2, now: c.now });
    for (const a of ['a', 'b']) {
      limiter.recordFailure(a);
      limiter.recordFailure(a);
    }
    expect(limiter.retryAfter('c')).to.equal(0);
    limiter.recordFailure('c');
    expect(limiter.retryAfter('d')).to.equal(0);
    limiter.recordFailure('d');
    // c and d spent the shared budget: every address not remembered is limited now.
    for (const x of ['c', 'd', 'e']) expect(limiter.retryAfter(x), x).to.equal(60);
    expect(limiter.retryAfter('a')).to.equal(60);
    expect(limiter.size).to.equal(2);
    // When the limited addresses' window ends, their slots are free again.
    c.t += 60_000;
    for (const x of ['a', 'b', 'c', 'e']) expect(limiter.retryAfter(x), x).to.equal(0);
    limiter.recordFailure('e');
    expect(limiter.retryAfter('e')).to.equal(0);
    expect(limiter.size).to.equal(1);
  });

  it('an expired limited address makes room before any unlimited address is evicted', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 1, maxClients: 2, now: c.now });
    limiter.recordFailure('old');
    c.t += 60_000;
    limiter.recordFailure('x');
    limiter.recordFailure('y');
    expect(limiter.size).to.equal(2);
    expect(limiter.retryAfter('x')).to.equal(60);
    expect(limiter.retryAfter('y')).to.equal(60);
  });
});
