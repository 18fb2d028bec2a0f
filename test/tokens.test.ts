// The token comparison, reviewed by test: TokenSet hashes every candidate with SHA-256 and compares
// fixed-length digests with crypto.timingSafeEqual against every configured token, so neither the
// value nor the length of what a client sends changes the work done. Then several tokens at once
// and rotation without restart (setTokens). Token-file rotation is in token-file.test.ts; the
// single-token route basics are in metrics-route.test.ts and bearer.test.ts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import crypto = require('node:crypto');

import { TokenSet } from '../src/auth/bearer';
import { loadSettings } from 'scanopy-metrics';
import { expect } from './helpers/chai';
import { InProcess } from './helpers/in-process';
import { rawRequest } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

interface Comparison {
  left: number;
  right: number;
}

/**
 * Runs `body` while recording every `crypto.timingSafeEqual` call (the byte lengths compared) and
 * every `crypto.createHash` algorithm. It calls through to the real functions: nothing is faked,
 * the compiled src/bearer.js reads both from the `node:crypto` module object at call time.
 */
function recordCrypto<T>(body: () => T): {
  result: T;
  comparisons: Comparison[];
  hashes: string[];
} {
  const comparisons: Comparison[] = [];
  const hashes: string[] = [];
  const mutable = crypto as { -readonly [K in keyof typeof crypto]: (typeof crypto)[K] };
  const realEqual = crypto.timingSafeEqual;
  const realHash = crypto.createHash;
  mutable.timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    comparisons.push({ left: a.byteLength, right: b.byteLength });
    return realEqual(a, b);
  };
  mutable.createHash = (algorithm: string, options?: crypto.HashOptions) => {
    hashes.push(algorithm);
    return realHash(algorithm, options);
  };
  try {
    return { result: body(), comparisons, hashes };
  } finally {
    mutable.timingSafeEqual = realEqual;
    mutable.createHash = realHash;
  }
}

const LONG = 'k'.repeat(10_000);
const UNICODE = 'clé-ünïcødé-€-🔑';
// Every character a bearer token may carry (RFC 6750's b64token and more printable ASCII).
const SYMBOLS = 'A-z0.9_~+/=!#$%&*@^|';
const CONFIGURED = ['a', LONG, SYMBOLS];

/** Candidates of every size and kind, with whether TokenSet(CONFIGURED) must accept them. */
const CANDIDATES: [string, string, boolean][] = [
  ['empty', '', false],
  ['1 byte, configured', 'a', true],
  ['1 byte, not configured', 'b', false],
  ['1 byte, other case', 'A', false],
  ['10,000 bytes, configured', LONG, true],
  ['10,000 bytes minus one', LONG.slice(1), false],
  ['10,000 bytes plus one', `${LONG}k`, false],
  ['10,000 bytes, last one differs', `${LONG.slice(1)}K`, false],
  ['10,000 bytes of something else', 'z'.repeat(10_000), false],
  ['printable ASCII symbols, configured', SYMBOLS, true],
  ['non-ASCII', UNICODE, false],
  [
    'non-ASCII, its UTF-8 bytes read as latin1 (as Node reads a header)',
    Buffer.from(UNICODE, 'utf8').toString('latin1'),
    false,
  ],
  ['non-ASCII, ASCII look-alike', 'cle-unicode-€-🔑', false],
  ['non-ASCII, lone surrogate', '\ud83d', false],
  ['NUL byte', '\u0000', false],
  ['a token with a NUL appended', 'a\u0000', false],
];

describe('TokenSet: constant-time comparison', () => {
  for (const [name, candidate, expected] of CANDIDATES) {
    it(`${expected ? 'accepts' : 'refuses'} ${name}, comparing one 32-byte SHA-256 digest per configured token`, () => {
      const tokens = new TokenSet(CONFIGURED);
      const { result, comparisons, hashes } = recordCrypto(() => tokens.matches(candidate));
      expect(result).to.equal(expected);
      // The candidate is hashed once, with SHA-256, whatever its length...
      expect(hashes).to.deep.equal(['sha256']);
      // ...and compared with every configured token, never stopping at a match, always as two
      // equal-length digests (timingSafeEqual would throw on unequal lengths).
      expect(comparisons).to.deep.equal(CONFIGURED.map(() => ({ left: 32, right: 32 })));
    });
  }

  it('refuses to hold a token no Authorization header could carry, without quoting it', () => {
    for (const bad of [UNICODE, 'two words', 'tab\there', 'nul\u0000']) {
      expect(() => new TokenSet(['good', bad]))
        .to.throw(
          TypeError,
          'a bearer token must be printable ASCII without white space (RFC 6750)',
        )
        .and.satisfy((error: Error) => !error.message.includes(bad));
    }
  });

  it('checks every configured token: with 3 tokens each one matches, first, middle and last', () => {
    const tokens = new TokenSet(['first-token', 'second-token-a-bit-longer', 'third']);
    expect(tokens.size).to.equal(3);
    for (const token of ['first-token', 'second-token-a-bit-longer', 'third']) {
      const { result, comparisons } = recordCrypto(() => tokens.matches(token));
      expect(result, token).to.equal(true);
      expect(comparisons, token).to.have.length(3);
    }
    for (const wrong of ['first', 'second-token', 'third-token', 'fourth', '']) {
      const { result, comparisons } = recordCrypto(() => tokens.matches(wrong));
      expect(result, wrong).to.equal(false);
      expect(comparisons, wrong).to.have.length(3);
    }
  });

  it('hashes the configured tokens once, when the set is built, not on every comparison', () => {
    const { result: tokens, hashes } = recordCrypto(() => new TokenSet(CONFIGURED));
    expect(hashes).to.deep.equal(['sha256', 'sha256', 'sha256']);
    const { hashes: perMatch } = recordCrypto(() => tokens.matches('a'));
    expect(perMatch).to.deep.equal(['sha256']);
  });

  it('a token set without tokens compares nothing and accepts nothing', () => {
    const { result, comparisons } = recordCrypto(() => new TokenSet([]).matches(''));
    expect(result).to.equal(false);
    expect(comparisons).to.deep.equal([]);
  });
});

function bearer(url: string, token: string) {
  return rawRequest(url, { path: '/metrics', headers: { Authorization: `Bearer ${token}` } });
}

describe('several tokens at once, and rotation', () => {
  const run = new InProcess();
  const apps: MetricsApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await run.stopAll();
  });

  it('SCANOPY_METRICS_TOKEN="a,b" (or one per line): both open the route in the preload', async () => {
    for (const value of [
      'token-alpha-000001,token-bravo-000002',
      'token-alpha-000001\ntoken-bravo-000002',
      ' token-alpha-000001 ,\n token-bravo-000002 \n',
    ]) {
      expect(
        loadSettings({ SCANOPY_METRICS_TOKEN: value }, run.tempDir()).settings.tokens,
      ).to.deep.equal(['token-alpha-000001', 'token-bravo-000002']);
      const { preload, stderr } = run.start({ SCANOPY_METRICS_TOKEN: value });
      const url = await run.serve(preload);
      expect((await bearer(url, 'token-alpha-000001')).status, value).to.equal(200);
      expect((await bearer(url, 'token-bravo-000002')).status, value).to.equal(200);
      for (const wrong of [
        'token-alpha-000001,token-bravo-000002',
        'token-alpha-000001token-bravo-000002',
        'token-alpha-00000',
        'token-bravo-000002 token-alpha-000001',
      ]) {
        expect((await bearer(url, wrong)).status, `${value}: ${wrong}`).to.equal(401);
      }
      expect(stderr).to.deep.equal([]);
    }
  });

  it('rotation with setTokens: old and new overlap, then the old one is refused; no restart', async () => {
    const app = await startMetricsApp(undefined, { token: 'old-rotating' });
    apps.push(app);
    expect((await bearer(app.url, 'old-rotating')).status).to.equal(200);
    expect((await bearer(app.url, 'new-rotating')).status).to.equal(401);
    app.metrics.setTokens(['old-rotating', 'new-rotating']);
    expect((await bearer(app.url, 'old-rotating')).status).to.equal(200);
    expect((await bearer(app.url, 'new-rotating')).status).to.equal(200);
    app.metrics.setTokens('new-rotating');
    expect((await bearer(app.url, 'old-rotating')).status).to.equal(401);
    expect((await bearer(app.url, 'new-rotating')).status).to.equal(200);
  });

  it('a scraper left on a rotated-out token is limited like any failure: its address gets 429 until the window ends, the new token included', async () => {
    const app = await startMetricsApp(undefined, { token: 'before-rotation' });
    apps.push(app);
    app.metrics.setTokens('after-rotation');
    for (let i = 0; i < 30; i++) {
      expect((await bearer(app.url, 'before-rotation')).status).to.equal(401);
    }
    expect((await bearer(app.url, 'before-rotation')).status).to.equal(429);
    // No answer from a limited address may depend on what it sent (test/auth-oracle.test.ts).
    expect((await bearer(app.url, 'after-rotation')).status).to.equal(429);
  });

  it('a non-ASCII token is either refused by the configuration or opens the route for a client sending it as UTF-8', async () => {
    // A client such as Prometheus (Go) or curl sends the bytes of the credentials file as they
    // are: UTF-8. Node reads header bytes as latin1, so the route sees `clÃ©…`, not `clé…`.
    const token = 'clé-€-token';
    const { settings, problems } = loadSettings({ SCANOPY_METRICS_TOKEN: token }, run.tempDir());
    if (problems.length > 0) {
      expect(problems.join('\n')).to.not.contain(token);
      return;
    }
    expect(settings.tokens).to.deep.equal([token]);
    const { preload } = run.start({ SCANOPY_METRICS_TOKEN: token });
    const url = await run.serve(preload);
    const utf8AsSent = Buffer.from(`Bearer ${token}`, 'utf8').toString('latin1');
    const response = await rawRequest(url, {
      path: '/metrics',
      headers: ['Authorization', utf8AsSent],
    });
    expect(
      response.status,
      'SCANOPY_METRICS_TOKEN accepted a non-ASCII token that no UTF-8 client can present',
    ).to.equal(200);
  });
});
