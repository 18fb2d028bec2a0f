// No secret leaks: the reference service, preloaded in child processes with verbose OTel
// diagnostics, gets wrong tokens, right tokens, bad requests and bad configurations; the token
// never shows in a child's stdout or stderr, in a response (body or header) or in the exposition,
// and target_info carries no command line, argv, pid or environment value.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { expect } from './helpers/chai';
import { REGISTER_CJS, REPO, childEnv, makeTempDir, removeTempDir } from './helpers/child';
import { parseExposition, series } from './helpers/exposition';
import { rawRequest } from './helpers/http';
import type { RawResponse } from './helpers/http';

const SERVER = path.join(REPO, 'build', 'reference-service', 'server.js');
const LISTENING = /^scanopy reference service listening on http:\/\/127\.0\.0\.1:(\d+)$/m;

/** A distinctive value that cannot occur by chance in any output. */
function secret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

interface Reference {
  url: string;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits until the process exited and its pipes closed. */
  stop(): Promise<void>;
}

/**
 * `node --require <repo>/dist/preload/register.js build/reference-service/server.js` on port 0, in an empty
 * working directory (no otel-config.yaml), with `env` on top of an environment cleared of
 * SCANOPY_* and OTEL_* variables; resolves once it prints the port it listens on.
 */
class References {
  private readonly running: { child: ChildProcess; closed: Promise<void> }[] = [];
  private readonly dirs: string[] = [];

  tempDir(): string {
    const dir = makeTempDir();
    this.dirs.push(dir);
    return dir;
  }

  start(env: Record<string, string>): Promise<Reference> {
    const child = spawn(process.execPath, ['--require', REGISTER_CJS, SERVER], {
      cwd: this.tempDir(),
      env: childEnv({ SCANOPY_SERVER_PORT: '0', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.running.push({ child, closed });
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    };
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(
          new Error(`reference service exited (${code}) before listening; stderr:\n${stderr}`),
        );
      child.once('exit', onExit);
      child.once('error', reject);
      child.stdout.on('data', () => {
        const port = LISTENING.exec(stdout)?.[1];
        if (port === undefined) return;
        child.off('exit', onExit);
        resolve({
          url: `http://127.0.0.1:${port}`,
          pid: child.pid ?? -1,
          stdout: () => stdout,
          stderr: () => stderr,
          stop,
        });
      });
    });
  }

  async stopAll(): Promise<void> {
    const running = this.running.splice(0);
    for (const { child } of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await Promise.all(running.map((r) => r.closed));
    for (const dir of this.dirs.splice(0)) removeTempDir(dir);
  }
}

/** Sends raw bytes on a connection of its own and returns everything the server wrote back. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect({ host: hostname, port: Number(port) }, () =>
      socket.end(bytes, 'latin1'),
    );
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('close', () => resolve(answer));
    socket.once('error', reject);
  });
}

/** Everything a client can see of a response, as one string to search. */
function visible(response: RawResponse): string {
  return `${response.status}\n${JSON.stringify(response.headers)}\n${response.body}`;
}

function expectAbsent(haystack: string, secrets: readonly string[], where: string): void {
  for (const s of secrets) {
    expect(haystack.includes(s), `${where} contains the secret ${s.split('-')[0]}-…`).to.equal(
      false,
    );
  }
}

/** The resource attributes the exposition may carry (nothing from the process or environment). */
const TARGET_INFO_LABELS = [
  'service_name',
  'telemetry_sdk_language',
  'telemetry_sdk_name',
  'telemetry_sdk_version',
];

describe('no secret leaks', () => {
  const references = new References();
  afterEach(() => references.stopAll());

  for (const [title, extraEnv] of [
    ['OTEL_LOG_LEVEL=debug', { OTEL_LOG_LEVEL: 'debug' }],
    [
      'OTEL_LOG_LEVEL=all, with instrumentation-http',
      { OTEL_LOG_LEVEL: 'all', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' },
    ],
  ] as const) {
    it(`the token never shows in logs, responses or the exposition; target_info has no process data (${title})`, async () => {
      const token = secret('tok');
      const canary = secret('canary');
      const service = await references.start({
        SCANOPY_METRICS_TOKEN: token,
        SECRETS_TEST_CANARY: canary,
        ...extraEnv,
      });
      const { url } = service;
      const basic = Buffer.from(`prometheus:${token}`).toString('base64');
      const responses: RawResponse[] = [];
      const get = async (
        target: string,
        headers: Record<string, string> | string[] = {},
        method = 'GET',
        localAddress?: string,
      ) => {
        const response = await rawRequest(url, { method, path: target, headers, localAddress });
        responses.push(response);
        return response;
      };

      // Wrong credentials of every kind, several of them built from the token.
      const wrong: (Record<string, string> | string[])[] = [
        {},
        { Authorization: 'Bearer wrong' },
        { Authorization: `Bearer ${token}x` },
        { Authorization: `Bearer ${token.slice(0, -1)}` },
        { Authorization: `Bearer ${token.toUpperCase()}` },
        { Authorization: `Bearer ${token} ${token}` },
        { Authorization: `Bearer\t${token}` },
        { Authorization: `Basic ${basic}` },
        { Authorization: `Basic ${token}` },
        { Authorization: token },
        ['Authorization', `Bearer ${token}`, 'Authorization', 'Bearer wrong'],
        { 'Proxy-Authorization': `Bearer ${token}` },
      ];
      for (const headers of wrong) {
        const response = await get('/metrics', headers);
        expect(response.status, JSON.stringify(headers)).to.equal(401);
        expect(response.body).to.equal('Invalid or missing token');
      }
      // The token in other places than the header.
      expect((await get(`/metrics?access_token=${token}`)).status).to.equal(401);
      expect((await get(`/${token}`, { Authorization: `Bearer ${token}` })).status).to.equal(404);
      expect((await get(`/metrics/${token}`)).status).to.equal(404);
      // The service's own auth refusing the token as a session or an API key.
      expect((await get('/api/v1/hosts', { Authorization: `Bearer ${token}` })).status).to.equal(
        401,
      );
      expect((await get('/api/v1/hosts', { 'X-Api-Key': token })).status).to.equal(401);
      // Methods the route refuses, with the right token.
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
        expect(
          (await get('/metrics', { Authorization: `Bearer ${token}` }, method)).status,
        ).to.equal(405);
      }
      // Right tokens.
      for (const authorization of [`Bearer ${token}`, `bearer   ${token}`]) {
        expect((await get('/metrics', { Authorization: authorization })).status).to.equal(200);
      }
      const head = await get('/metrics', { Authorization: `Bearer ${token}` }, 'HEAD');
      expect(head.status).to.equal(200);
      // Bad requests: a header block over the limit, then requests Node's parser refuses.
      const huge = await get('/metrics', {
        Authorization: `Bearer ${token}`,
        'X-Pad': 'p'.repeat(http.maxHeaderSize),
      });
      expect(huge.status).to.equal(431);
      const malformed = [
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nBroken header line\r\n\r\n`,
        `GET /metrics?t=${token} HTTP/9.9\r\nHost: x\r\n\r\n`,
        `${token} /metrics HTTP/1.1\r\nHost: x\r\n\r\n`,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ];
      for (const bytes of malformed) {
        const answer = await rawExchange(url, bytes);
        expect(answer, bytes.split('\r\n')[0]).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
        expectAbsent(answer, [token], 'a 400 answer');
      }
      // Enough failures to hit the limit: 429s must not echo anything either.
      for (let i = 0; i < 35; i++)
        await get('/metrics', { Authorization: `Bearer ${token}-guess-${i}` });
      const limited = await get('/metrics', { Authorization: `Bearer ${token}-guess` });
      expect(limited.status).to.equal(429);
      expect(limited.body).to.equal('Too many failed attempts');

      // The exposition, scraped last so that it holds every request above (from another address:
      // the limited one gets 429 whatever it sends).
      const scraped = await get(
        '/metrics',
        { Authorization: `Bearer ${token}` },
        'GET',
        '127.0.0.2',
      );
      expect(scraped.status).to.equal(200);
      const text = scraped.body;
      expect(series(text, 'http_requests_total').length).to.be.greaterThan(3);

      for (const response of responses)
        expectAbsent(visible(response), [token, canary, basic], 'a response');
      expectAbsent(text, [token, canary, basic], 'the exposition');

      // target_info: the SDK's resource attributes and the service name, nothing of the process.
      const targetInfo = series(text, 'target_info');
      expect(targetInfo).to.have.length(1);
      expect(Object.keys(targetInfo[0].labels).sort()).to.deep.equal(TARGET_INFO_LABELS);
      const labelNames = new Set(parseExposition(text).flatMap((s) => Object.keys(s.labels)));
      for (const name of labelNames) {
        expect(name, 'a process or host label').to.not.match(/^(process|host|os|container)_/);
      }
      const labelValues = new Set(parseExposition(text).flatMap((s) => Object.values(s.labels)));
      const processValues = [
        String(service.pid),
        process.execPath,
        SERVER,
        REGISTER_CJS,
        `--require ${REGISTER_CJS}`,
        path.basename(SERVER),
      ];
      for (const value of processValues) {
        expect(labelValues.has(value), `a label value is ${value}`).to.equal(false);
      }
      for (const value of labelValues) {
        expect(value, 'a label value holds a path of this process').to.not.contain(REPO);
      }

      await service.stop();
      expectAbsent(service.stdout(), [token, canary, basic], 'stdout');
      expectAbsent(service.stderr(), [token, canary, basic], 'stderr');
      // The debug logging was on: the child did write diagnostics (on stderr, every level),
      // just not the secrets.
      expect(service.stderr()).to.contain('Applying instrumentation patch');
      expect(service.stdout()).to.not.contain('Applying instrumentation patch');
    });
  }

  describe('configuration errors', () => {
    interface Broken {
      title: string;
      /** Variables of the child, given a scratch directory; the secrets it uses are in `secrets`. */
      env: (dir: string, secrets: string[]) => Record<string, string>;
      /** The problem line, as it starts after `scanopy-metrics: `. */
      problem: RegExp;
    }
    const BROKEN: Broken[] = [
      {
        title: 'white space inside SCANOPY_METRICS_TOKEN',
        env: (_, [a, b]) => ({ SCANOPY_METRICS_TOKEN: `${a} ${b}` }),
        problem: /^SCANOPY_METRICS_TOKEN: expected tokens without white space/,
      },
      {
        title: 'a tab and a comma list in SCANOPY_METRICS_TOKEN',
        env: (_, [a, b]) => ({ SCANOPY_METRICS_TOKEN: `${a},x\t${b}` }),
        problem: /^SCANOPY_METRICS_TOKEN: expected tokens without white space/,
      },
      {
        title: 'both SCANOPY_METRICS_TOKEN and SCANOPY_METRICS_TOKEN_FILE',
        env: (dir, [a, b]) => {
          writeFileSync(path.join(dir, 'token'), `${b}\n`);
          return { SCANOPY_METRICS_TOKEN: a, SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') };
        },
        problem: /^SCANOPY_METRICS_TOKEN_FILE: expected only one of/,
      },
      {
        title: 'white space inside a token of SCANOPY_METRICS_TOKEN_FILE',
        env: (dir, [a, b]) => {
          writeFileSync(path.join(dir, 'token'), `${a}\n${a} ${b}\n`);
          return { SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') };
        },
        problem: /^SCANOPY_METRICS_TOKEN_FILE: .*expected tokens without white space/,
      },
      {
        title: 'another variable wrong while the token is set',
        env: (_, [a]) => ({ SCANOPY_METRICS_TOKEN: a, SCANOPY_METRICS_PATH: 'metrics' }),
        problem: /^SCANOPY_METRICS_PATH: expected an absolute path/,
      },
    ];

    it('each one: one stderr line naming the variable, no token in any output or response', async () => {
      const started = await Promise.all(
        BROKEN.map(async (broken) => {
          const secrets = [secret('first'), secret('second')];
          const env = broken.env(references.tempDir(), secrets);
          const service = await references.start({ ...env, OTEL_LOG_LEVEL: 'debug' });
          return { broken, secrets, service };
        }),
      );
      for (const { broken, secrets, service } of started) {
        for (const s of ['', ...secrets]) {
          const response = await rawRequest(service.url, {
            path: '/metrics',
            headers: s === '' ? {} : { Authorization: `Bearer ${s}` },
          });
          expect(response.status, broken.title).to.equal(404);
          expect(response.body, broken.title).to.equal('Metrics not enabled');
          expectAbsent(visible(response), secrets, broken.title);
        }
        // The service itself runs.
        expect((await rawRequest(service.url, { path: '/api/health' })).status).to.equal(200);
        await service.stop();
        // With OTEL_LOG_LEVEL=debug, OTel's own debug lines are on stderr too (as every line of
        // the preload's logger): the package's are the problem alone.
        const lines = service
          .stderr()
          .split('\n')
          .filter((line) => line.startsWith('scanopy-metrics: '));
        expect(lines, broken.title).to.have.length(1);
        expect(lines[0].replace(/^scanopy-metrics: /, ''), broken.title).to.match(broken.problem);
        // A token file may still give a token later; any other problem disables the route.
        expect(lines[0], broken.title).to.match(
          /; the metrics route (is disabled \(404\)|answers 404 until the file holds a token)$/,
        );
        expectAbsent(service.stderr(), secrets, `${broken.title}: stderr`);
        expectAbsent(service.stdout(), secrets, `${broken.title}: stdout`);
      }
    });
  });
});
