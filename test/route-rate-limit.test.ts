// The failed-authentication limit of the metrics route: 30 failures per client address and minute
// by default, then 429 with Retry-After to everything the address sends, the right token included
// (test/auth-oracle.test.ts: no oracle); other addresses are not affected; 0 turns it off. Then FailureLimiter itself, with an injected clock.
import { FailureLimiter } from '../src/auth/rate-limit';
import { expect } from './helpers/chai';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { InProcess } from './helpers/in-process';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';
import type { ScanopyMetricsOptions } from 'scanopy-metrics';

const TOKEN = 'limit-token-4b8e1d';
const REFUSED = 'Invalid or missing token';
const LIMITED = 'Too many failed attempts';

/** GET the metrics route on a connection of its own, from `localAddress` (127.0.0.2: another client). */
function get(
  url: string,
  headers: Record<string, string> | string[] = {},
  localAddress = '127.0.0.1',
): Promise<RawResponse> {
  return rawRequest(url, { path: '/metrics', headers, localAddress });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Every kind of failed authentication counts: wrong token, none, another scheme, two headers. */
const FAILURES: (Record<string, string> | string[])[] = [
  bearer('wrong-token'),
  {},
  { Authorization: `Basic ${TOKEN}` },
  ['Authorization', `Bearer ${TOKEN}`, 'Authorization', `Bearer ${TOKEN}`],
  bearer(`${TOKEN}x`),
];

function expectRefused(answer: RawResponse, what: string): void {
  expect(answer.status, what).to.equal(401);
  expect(answer.body, what).to.equal(REFUSED);
  expect(answer.headers['www-authenticate'], what).to.equal('Bearer');
}

function expectLimited(answer: RawResponse, what = 'limited'): number {
  expect(answer.status, what).to.equal(429);
  expect(answer.body, what).to.equal(LIMITED);
  expect(answer.headers['cache-control'], what).to.equal('no-store');
  const retryAfter = answer.headers['retry-after'] ?? '';
  expect(retryAfter, what).to.match(/^[1-9]\d*$/);
  const seconds = Number(retryAfter);
  expect(seconds, what).to.be.within(1, 60);
  return seconds;
}

/** Sends `count` failed attempts from `localAddress`, each expected to get 401. */
async function fail(url: string, count: number, localAddress = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < count; i++) {
    expectRefused(await get(url, FAILURES[i % FAILURES.length], localAddress), `attempt ${i + 1}`);
  }
}

describe('metrics route: failed-authentication limit', () => {
  const started: MetricsApp[] = [];
  let server: MetricsApp;
  async function start(options: ScanopyMetricsOptions): Promise<MetricsApp> {
    const app = await startMetricsApp(undefined, options);
    started.push(app);
    return app;
  }
  afterEach(async () => {
    for (const app of started.splice(0)) await app.close();
  });

  describe('with the default limit (30 a minute)', () => {
    beforeEach(async () => {
      server = await start({ token: TOKEN });
    });

    it('answers 30 failed attempts with 401, the 31st with 429 and a Retry-After of 1 to 60 seconds', async () => {
      await fail(server.url, 30);
      const limited = await get(server.url, bearer('wrong-token'));
      expectLimited(limited, '31st attempt');
      expect(limited.body).to.not.contain(TOKEN);
      // Every kind of failure is limited from then on, a missing header included.
      for (const headers of FAILURES) expectLimited(await get(server.url, headers));
    });

    it('answers the right token with 429 too during the block, and with 200 from another address', async () => {
      await fail(server.url, 30);
      expectLimited(await get(server.url, bearer('wrong-token')));
      for (let i = 0; i < 3; i++) expectLimited(await get(server.url, bearer(TOKEN)));
      expectLimited(await get(server.url, { Authorization: `bEARER   ${TOKEN}` }));
      for (let i = 0; i < 3; i++) {
        const served = await get(server.url, bearer(TOKEN), '127.0.0.2');
        expect(served.status).to.equal(200);
        expect(served.body).to.contain('# TYPE http_requests_total counter\n');
      }
      // The scheme in another case and several spaces are the right token too.
      expect(
        (await get(server.url, { Authorization: `bEARER   ${TOKEN}` }, '127.0.0.2')).status,
      ).to.equal(200);
    });

    it('does not block another client address (127.0.0.2)', async () => {
      await fail(server.url, 30);
      expectLimited(await get(server.url, bearer('wrong-token'), '127.0.0.1'));
      expectRefused(await get(server.url, bearer('wrong-token'), '127.0.0.2'), 'from 127.0.0.2');
      expect((await get(server.url, bearer(TOKEN), '127.0.0.2')).status).to.equal(200);
      // ...which has its own 30 attempts, after which it is blocked in turn.
      await fail(server.url, 29, '127.0.0.2');
      expectLimited(await get(server.url, bearer('wrong-token'), '127.0.0.2'));
      expectLimited(await get(server.url, bearer('wrong-token'), '127.0.0.1'));
    });

    it('keys on the socket address: X-Forwarded-For does not lift a block (app.proxy is off)', async () => {
      await fail(server.url, 30);
      for (const forwarded of ['10.1.2.3', '127.0.0.2', '10.9.9.9, 10.1.1.1']) {
        expectLimited(
          await get(server.url, { ...bearer('wrong-token'), 'X-Forwarded-For': forwarded }),
          `X-Forwarded-For: ${forwarded}`,
        );
      }
    });

    it('counts the refused attempts in the exposition: 30 × 401, then 429s', async () => {
      await fail(server.url, 30);
      for (let i = 0; i < 4; i++) expectLimited(await get(server.url, bearer('wrong-token')));
      const text = await server.metrics.scrape();
      const line = (status: number, n: number) =>
        `http_requests_total{method="GET",path="/metrics",status="${status}",entity_type="anonymous"} ${n}\n`;
      expect(text).to.contain(line(401, 30));
      expect(text).to.contain(line(429, 4));
    });
  });

  it('a service behind a proxy (app.proxy = true): a client rotating X-Forwarded-For is still limited', async () => {
    // Koa's ctx.ip is then the left-most X-Forwarded-For entry, which the client writes itself
    // (a proxy appends to what it received). Keying the limit on it lets a guesser pick a new
    // "address" for every attempt, and fill the limiter with keys of its choosing.
    server = await start({ token: TOKEN });
    server.app.proxy = true;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const answer = await get(server.url, {
        ...bearer(`guess-${i}`),
        'X-Forwarded-For': `10.0.0.${i}`,
      });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 30)).to.deep.equal(new Array<number>(30).fill(401));
    expect(statuses.slice(30), 'attempts 31 to 40, each from a new X-Forwarded-For').to.deep.equal(
      new Array<number>(10).fill(429),
    );
  });

  it('authFailuresPerMinute: 0 turns the limit off: 100 failed attempts all get 401', async () => {
    server = await start({ token: TOKEN, authFailuresPerMinute: 0 });
    await fail(server.url, 100);
    expect((await get(server.url, bearer(TOKEN))).status).to.equal(200);
  });

  it('authFailuresPerMinute: 3 allows 3 failures a minute', async () => {
    server = await start({ token: TOKEN, authFailuresPerMinute: 3 });
    await fail(server.url, 3);
    expectLimited(await get(server.url, {}));
  });

  describe('SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE', () => {
    const run = new InProcess();
    afterEach(() => run.stopAll());

    it('=0 turns the limit off in the preload: 100 failed attempts all get 401', async () => {
      const { preload, stderr } = run.start({
        SCANOPY_METRICS_TOKEN: TOKEN,
        SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '0',
      });
      expect(preload.settings.authFailuresPerMinute).to.equal(0);
      const url = await run.serve(preload);
      await fail(url, 100);
      expect((await get(url, bearer(TOKEN))).status).to.equal(200);
      expect(stderr).to.deep.equal([]);
    });

    it('=5 allows 5 failures, the 6th gets 429', async () => {
      const { preload } = run.start({
        SCANOPY_METRICS_TOKEN: TOKEN,
        SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE: '5',
      });
      const url = await run.serve(preload);
      await fail(url, 5);
      expectLimited(await get(url, bearer('wrong-token')));
      expect((await get(url, bearer(TOKEN), '127.0.0.2')).status).to.equal(200);
    });

    it('unset: the preload uses 30', async () => {
      const { preload } = run.start({ SCANOPY_METRICS_TOKEN: TOKEN });
      expect(preload.settings.authFailuresPerMinute).to.equal(30);
      const url = await run.serve(preload);
      await fail(url, 30);
      expectLimited(await get(url, bearer('wrong-token')));
    });
  });
});

describe('FailureLimiter', () => {
  /** A clock the test moves by hand. */
  function clock(start = 1_000_000) {
    const c = { t: start, now: () => c.t };
    return c;
  }

  it('lets `limit` failures through, then asks the client to wait', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 3, now: c.now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a'), `before failure ${i + 1}`).to.equal(0);
      limiter.recordFailure('a');
    }
    expect(limiter.retryAfter('a')).to.equal(60);
    expect(limiter.retryAfter('b')).to.equal(0);
  });

  it('counts Retry-After down in whole seconds to the end of the window, never below 1', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 1, now: c.now });
    limiter.recordFailure('a');
    const expected: [number, number][] = [
      [0, 60],
      [1, 60],
      [999, 60],
      [1_000, 59],
      [30_000, 30],
      [58_999, 2],
      [59_000, 1],
      [59_999, 1],
      [60_000, 0],
    ];
    const start = c.t;
    for (const [elapsed, seconds] of expected) {
      c.t = start + elapsed;
      expect(limiter.retryAfter('a'), `after ${elapsed} ms`).to.equal(seconds);
    }
  });

  it('resets after windowMs: the client gets a fresh window of `limit` failures', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 2, windowMs: 10_000, now: c.now });
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(10);
    c.t += 9_999;
    expect(limiter.retryAfter('a')).to.equal(1);
    c.t += 1;
    expect(limiter.retryAfter('a')).to.equal(0);
    limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(0);
    limiter.recordFailure('a');
    // The new window started at the first failure after the reset.
    expect(limiter.retryAfter('a')).to.equal(10);
  });

  it('uses fixed windows: failures at the end of one window do not count in the next', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 3, now: c.now });
    limiter.recordFailure('a');
    c.t += 59_000;
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(1);
    c.t += 1_000;
    expect(limiter.retryAfter('a')).to.equal(0);
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(0);
  });

  it('keeps clients apart', () => {
    const c = clock();
    const limiter = new FailureLimiter({ limit: 2, now: c.now });
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    expect(limiter.retryAfter('a')).to.equal(60);
    expect(limiter.retryAfter('b')).to.equal(0);
    expect(limiter.size).to.equal(2);
  });

  it('with limit 0 never blocks and remembers no one', () => {
    const limiter = new FailureLimiter({ limit: 0 });
    for (let i = 0; i < 1000; i++) limiter.recordFailure(i % 2 === 0 ? 'a' : `client-${i}`);
    expect(limiter.retryAfter('a')).to.equal(0);
    expect(limiter.size).to.equal(0);
  });

  it('defaults to 30 failures per 60-second window', () => {
    const c = clock();
    const limiter = new FailureLimiter({ now: c.now });
    expect(limiter.limit).to.equal(30);
    for (let i = 0; i < 29; i++) limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(0);
    limiter.recordFailure('a');
    expect(limiter.retryAfter('a')).to.equal(60);
  });

  for (const [title, options] of [
    ['maxClients: 10,000', { maxClients: 10_000 }],
    ['the default maxClients', {}],
  ] as const) {
    it(`is bounded (${title}): after failures from 50,000 addresses it remembers exactly 10,000, and forgets none early`, () => {
      const c = clock();
      const limiter = new FailureLimiter({ limit: 1, now: c.now, ...options });
      for (let i = 0; i < 50_000; i++) {
        limiter.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
        c.t += 1;
      }
      expect(limiter.size).to.equal(10_000);
      const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      // Each address was limited at its first failure: none is forgotten before its window ends,
      // and the 40,000 that found no place share one budget, long spent.
      for (const i of [0, 9_999, 10_000, 39_999, 49_999, 60_000]) {
        expect(limiter.retryAfter(address(i)), address(i)).to.be.greaterThan(0);
      }
      expect(limiter.size).to.equal(10_000);
    });
  }
});
