// Shutdown (issue 5): the package keeps no process alive. A child that preloads it, serves and
// scrapes a Koa app, has its token file re-read once (so the file watcher ran), fails one
// authentication (so the rate limiter holds state), then closes its server, must exit by itself
// with code 0; a process still alive 10 s after closing fails the test (and is killed). And the
// reference service ends on SIGTERM with code 0, preloaded as well as plain.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { DEMO_USER_SESSION } from '../reference-service/auth';
import { expect } from './helpers/chai';
import {
  REGISTER_CJS,
  REGISTER_ESM,
  REPO,
  childEnv,
  makeTempDir,
  removeTempDir,
} from './helpers/child';
import type { Exit } from './helpers/child';
import { ReferenceProcesses } from './helpers/reference-process';
import { scrapeOk, send } from './helpers/request';

const TOKEN = 'shutdown-token-1a7f90';
/** How long a process may take to end once it has nothing left to do. */
const EXIT_BOUND_MS = 10_000;

/**
 * The body of the child: serve a Koa app, scrape it with the token from the file, rotate the file
 * and wait (bounded) until the new token opens the route, fail once with a wrong token, close.
 * It prints what it saw; it never calls process.exit.
 */
const SCRIPT = `
const get = (port, token) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false,
             headers: { Authorization: 'Bearer ' + token } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => resolve({ status: res.statusCode, body }));
  }).on('error', reject);
});
const app = new Koa();
app.use((ctx) => { ctx.body = 'ok'; });
const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const first = await get(port, ${JSON.stringify(TOKEN)});
  console.log('scrape ' + first.status + ' ' + first.body.includes('# TYPE http_requests_total counter'));
  console.log('wrong ' + (await get(port, 'wrong-token')).status);
  fs.writeFileSync(process.env.SCANOPY_METRICS_TOKEN_FILE, 'rotated-token-xyz\\n');
  let rotated;
  for (let i = 0; i < 100; i++) {
    rotated = (await get(port, 'rotated-token-xyz')).status;
    if (rotated === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log('rotated ' + rotated);
  server.close(() => console.log('closed'));
});
`;

const CJS = `const fs = require('node:fs'); const http = require('node:http'); const Koa = require('koa');\n${SCRIPT}`;
const ESM = `import fs from 'node:fs'; import http from 'node:http'; import Koa from 'koa';\n${SCRIPT}`;

interface Run {
  exit: Exit;
  stdout: string;
  stderr: string;
  /** Whether it had to be killed, EXIT_BOUND_MS after it printed `closed`. */
  killed: boolean;
}

/** Runs `node <nodeArgs> -e <code>` in the repository (so that `koa` resolves) until it exits. */
function runUntilExit(nodeArgs: readonly string[], code: string, env: Record<string, string>) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '-e', code], {
      cwd: REPO,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      killed = true;
      child.kill('SIGKILL');
    };
    // Bounded whatever happens: the whole run, then the time from `closed` to the exit.
    const overall = setTimeout(kill, 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes('closed\n'))
        timer = setTimeout(kill, EXIT_BOUND_MS);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      clearTimeout(overall);
      clearTimeout(timer);
      resolve({ exit: { code: exitCode, signal }, stdout, stderr, killed });
    });
  });
}

describe('shutdown: the package keeps no process alive', function () {
  this.timeout(60_000);
  let dir: string;
  let tokenFile: string;

  beforeEach(() => {
    dir = makeTempDir();
    tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });
  afterEach(() => removeTempDir(dir));

  const expected = 'scrape 200 true\nwrong 401\nrotated 200\nclosed\n';

  /** The child saw what it should, then exited with code 0, without being killed and silently. */
  function expectExitedByItself(run: Run): void {
    expect(run.killed, `still running ${EXIT_BOUND_MS} ms after closing`).to.equal(false);
    expect(run).to.deep.equal({
      exit: { code: 0, signal: null },
      stdout: expected,
      stderr: '',
      killed: false,
    });
  }

  it('a CommonJS app preloaded with --require exits by itself, code 0, once its server is closed', async () => {
    const run = await runUntilExit(['--require', REGISTER_CJS], CJS, {
      SCANOPY_METRICS_TOKEN_FILE: tokenFile,
    });
    expectExitedByItself(run);
  });

  it('so does an ES-module app preloaded with --import (the loader hook included)', async () => {
    const run = await runUntilExit(['--import', REGISTER_ESM, '--input-type=module'], ESM, {
      SCANOPY_METRICS_TOKEN_FILE: tokenFile,
    });
    expectExitedByItself(run);
  });

  it('so does the same app with OTel instrumentation-http enabled into the package', async () => {
    const run = await runUntilExit(['--require', REGISTER_CJS], CJS, {
      SCANOPY_METRICS_TOKEN_FILE: tokenFile,
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
    });
    expect(run.killed, `still running ${EXIT_BOUND_MS} ms after closing`).to.equal(false);
    expect(run.exit).to.deep.equal({ code: 0, signal: null });
    expect(run.stdout).to.equal(expected);
  });

  it('so does the same app with the runtime metrics and instrumentation-http enabled', async () => {
    const run = await runUntilExit(['--require', REGISTER_CJS], CJS, {
      SCANOPY_METRICS_TOKEN_FILE: tokenFile,
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,runtime-node',
    });
    expectExitedByItself(run);
  });

  describe('SIGTERM ends the reference service', () => {
    const processes = new ReferenceProcesses();
    after(() => processes.stopAll());

    for (const preload of [false, true]) {
      it(`${preload ? 'preloaded' : 'without the package'}: code 0, with a kept-alive connection open`, async () => {
        const service = await processes.start({
          preload,
          env: { SCANOPY_METRICS_TOKEN: TOKEN },
        });
        const agent = new http.Agent({ keepAlive: true });
        try {
          for (let i = 0; i < 3; i++) {
            const created = await send(service.url, {
              method: 'POST',
              path: '/api/v1/hosts',
              headers: {
                Authorization: `Bearer ${DEMO_USER_SESSION}`,
                'Content-Type': 'application/json',
              },
              body: JSON.stringify({ name: `h${i}` }),
              agent,
            });
            expect(created.status).to.equal(201);
          }
          if (preload)
            expect(await scrapeOk(service.url, TOKEN)).to.contain('scanopy_events_total');
          // The kept-alive connection is idle and open when the signal arrives.
          expect(Object.keys(agent.freeSockets)).to.have.length(1);
          // Killed (and failed) if it is still there after the bound.
          expect(await service.stop(EXIT_BOUND_MS)).to.deep.equal({ code: 0, signal: null });
          expect(service.stderr()).to.equal('');
        } finally {
          agent.destroy();
        }
      });
    }
  });
});
