// The failed-authentication limit leaves no oracle: once an address is limited, every answer it
// gets is the same 429 until its window ends, whatever it sends (the right token included), while
// the right token from any other address keeps working. Short tokens are warned about on stderr,
// without the token, and the comma in SCANOPY_METRICS_TOKEN is the separator it is documented as.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';
import { startMetricsApp } from './helpers/metrics-app';
import type { MetricsApp } from './helpers/metrics-app';

const TOKEN = 'oracle-token-9d2f61ac';

function get(
  url: string,
  headers: Record<string, string> | string[],
  localAddress: string,
  method = 'GET',
): Promise<RawResponse> {
  return rawRequest(url, { method, path: '/metrics', headers, localAddress });
}

/** What a limited client can observe of an answer: all of it but the countdown's value. */
function observable(answer: RawResponse): string {
  const { date, 'retry-after': retryAfter, ...headers } = answer.headers;
  expect(date).to.be.a('string');
  expect(retryAfter).to.match(/^[1-9]\d*$/);
  return JSON.stringify({ status: answer.status, headers, body: answer.body });
}

describe('the failed-authentication limit is no oracle', () => {
  let server: MetricsApp;
  afterEach(() => server.close());

  it('a limited address gets the same 429 for every request, the right token included; others still get 200', async () => {
    server = await startMetricsApp(undefined, { token: TOKEN, authFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      expect(
        (await get(server.url, { Authorization: `Bearer guess-${i}` }, '127.0.0.9')).status,
      ).to.equal(401);
    }
    const probes: [string, Record<string, string> | string[], string?][] = [
      ['a wrong token', { Authorization: 'Bearer guess-3' }, undefined],
      ['the right token', { Authorization: `Bearer ${TOKEN}` }, undefined],
      ['the right token, scheme in capitals', { Authorization: `BEARER ${TOKEN}` }, undefined],
      ['no Authorization', {}, undefined],
      ['another scheme', { Authorization: `Basic ${TOKEN}` }, undefined],
      ['two headers', ['Authorization', `Bearer ${TOKEN}`, 'Authorization', 'Bearer x'], undefined],
      ['HEAD with the right token', { Authorization: `Bearer ${TOKEN}` }, 'HEAD'],
      ['POST with the right token', { Authorization: `Bearer ${TOKEN}` }, 'POST'],
    ];
    const seen = new Set<string>();
    for (const [what, headers, method] of probes) {
      const answer = await get(server.url, headers, '127.0.0.9', method);
      expect(answer.status, what).to.equal(429);
      // HEAD has no body; everything else must be byte-identical.
      if (method !== 'HEAD') seen.add(observable(answer));
    }
    expect([...seen]).to.have.length(1);
    expect([...seen][0]).to.contain('Too many failed attempts');
    expect([...seen][0]).to.not.contain(TOKEN);

    const other = await get(server.url, { Authorization: `Bearer ${TOKEN}` }, '127.0.0.10');
    expect(other.status).to.equal(200);
    expect(other.body).to.contain('# TYPE http_requests_total counter\n');
  });

  it('guessing a 2-character token from one address: no answer tells the right guess once limited', async () => {
    const secret = 'k7';
    server = await startMetricsApp(undefined, { token: secret, authFailuresPerMinute: 5 });
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const answers = new Map<string, number>();
    // The right guess comes last of a batch of 40, well past the limit.
    const guesses = [...alphabet].slice(0, 39).map((c) => `${c}${c}`);
    guesses.push(secret);
    for (const guess of guesses) {
      const answer = await get(server.url, { Authorization: `Bearer ${guess}` }, '127.0.0.11');
      answers.set(guess, answer.status);
    }
    expect([...answers.values()].slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
    expect(new Set([...answers.values()].slice(5))).to.deep.equal(new Set([429]));
    expect(answers.get(secret)).to.equal(429);
  });

  it('the 429s are counted too, and a limited address does not change what other addresses get', async () => {
    server = await startMetricsApp(undefined, { token: TOKEN, authFailuresPerMinute: 2 });
    for (let i = 0; i < 2; i++) await get(server.url, {}, '127.0.0.12');
    for (let i = 0; i < 3; i++) {
      expect(
        (await get(server.url, { Authorization: `Bearer ${TOKEN}` }, '127.0.0.12')).status,
      ).to.equal(429);
    }
    expect((await get(server.url, {}, '127.0.0.13')).status).to.equal(401);
    const text = await server.metrics.scrape();
    const line = (status: number, n: number) =>
      `http_requests_total{method="GET",path="/metrics",status="${status}",entity_type="anonymous"} ${n}\n`;
    expect(text).to.contain(line(401, 3));
    expect(text).to.contain(line(429, 3));
  });
});

describe('SCANOPY_METRICS_TOKEN: commas and short tokens', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  const start = (env: Record<string, string>) =>
    children.start({ fixture: fixture('service.cjs'), nodeArgs: REQUIRE_PRELOAD, env });
  const scrapeWith = async (url: string, token: string) =>
    (await rawRequest(url, { path: '/metrics', headers: { Authorization: `Bearer ${token}` } }))
      .status;

  it('a comma separates two tokens, and a token shorter than 16 characters is warned about once, without it', async () => {
    const service = await start({ SCANOPY_METRICS_TOKEN: 'Xk29sLmQ8vP2,q' });
    expect(await scrapeWith(service.url, 'q')).to.equal(200);
    expect(await scrapeWith(service.url, 'Xk29sLmQ8vP2')).to.equal(200);
    expect(await scrapeWith(service.url, 'Xk29sLmQ8vP2,q')).to.equal(401);
    expect(service.stderrLines()).to.deep.equal([
      'scanopy-metrics: SCANOPY_METRICS_TOKEN: tokens shorter than 16 characters are easy to guess (2 of 2 are); use at least 16 random characters (commas separate tokens)',
    ]);
    expect(service.stderr()).to.not.contain('Xk29sLmQ8vP2');
  });

  it('no warning for tokens of 16 characters or more', async () => {
    const service = await start({ SCANOPY_METRICS_TOKEN: '0123456789abcdef,fedcba9876543210x' });
    expect(await scrapeWith(service.url, '0123456789abcdef')).to.equal(200);
    expect(service.stderr()).to.equal('');
  });

  it('a short token in SCANOPY_METRICS_TOKEN_FILE is warned about too, once', async () => {
    const dir = children.tempDir();
    const file = path.join(dir, 'token');
    writeFileSync(file, 'abc123\n0123456789abcdef-long\n');
    const service = await start({ SCANOPY_METRICS_TOKEN_FILE: file });
    expect(await scrapeWith(service.url, 'abc123')).to.equal(200);
    expect(service.stderrLines()).to.deep.equal([
      'scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: tokens shorter than 16 characters are easy to guess (1 of 2 are); use at least 16 random characters (commas separate tokens)',
    ]);
    expect(service.stderr()).to.not.contain('abc123');
  });
});
