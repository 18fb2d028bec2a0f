// Removing the secret revokes it. The token file is checked every second: emptied, deleted,
// replaced by a directory or a FIFO, the old token stops opening the route within seconds (the
// route answers 404 "Metrics not enabled", as with no token configured); a failed read that does
// not last (a Kubernetes ..data symlink swap) revokes nothing; a file created after startup is
// picked up.
import {
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { watchTokenFile } from '../src/auth/token-file';
import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture, makeTempDir, removeTempDir } from './helpers/child';
import type { ChildService } from './helpers/child';
import { captureDiag } from './helpers/diag-capture';
import { get } from './helpers/preloaded-service';
import { pollUntil } from './helpers/wait';

const FIRST = 'revocation-token-a-6b1f27';
const SECOND = 'revocation-token-b-93d0ce';

const status = async (service: ChildService, token: string): Promise<number> =>
  (await get(service.url, '/metrics', { Authorization: `Bearer ${token}` })).status;

describe('token file: removing the secret revokes it', function () {
  this.timeout(60_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  async function startWith(file: string): Promise<ChildService> {
    return children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN_FILE: file },
    });
  }

  async function untilStatus(service: ChildService, token: string, want: number, what: string) {
    await pollUntil(
      `${what}: the route answers ${want}`,
      async () => (await status(service, token)) === want,
    );
  }

  const removals: [string, (file: string) => void, string][] = [
    ['emptied', (file) => truncateSync(file, 0), 'expected at least one token, found none'],
    ['deleted', (file) => unlinkSync(file), 'cannot be read (ENOENT)'],
    [
      'replaced by a directory',
      (file) => {
        unlinkSync(file);
        mkdirSync(file);
      },
      'expected a regular file, got a directory',
    ],
    [
      'replaced by a FIFO',
      (file) => {
        unlinkSync(file);
        execFileSync('mkfifo', [file]);
      },
      'expected a regular file, got a FIFO',
    ],
  ];

  for (const [how, remove, reason] of removals) {
    it(`${how}: the old token stops working within seconds (404), a new one is picked up`, async () => {
      const file = path.join(children.tempDir(), 'token');
      writeFileSync(file, `${FIRST}\n`);
      const service = await startWith(file);
      expect(await status(service, FIRST)).to.equal(200);
      remove(file);
      await untilStatus(service, FIRST, 404, `token file ${how}`);
      const refused = await get(service.url, '/metrics', { Authorization: `Bearer ${FIRST}` });
      expect(refused.body).to.equal('Metrics not enabled');
      expect(service.stderrLines()).to.deep.equal([
        `scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: ${file}: ${reason}; no token is valid (the metrics route answers 404) until it holds one`,
      ]);

      rmSync(file, { recursive: true, force: true });
      writeFileSync(file, `${SECOND}\n`);
      await untilStatus(service, SECOND, 200, 'a new token written');
      expect(await status(service, FIRST)).to.equal(401);
      expect(service.stderr()).to.not.contain(FIRST);
      expect(service.stderr()).to.not.contain(SECOND);
    });
  }

  it('a token file created after startup is picked up', async () => {
    const file = path.join(children.tempDir(), 'token');
    const service = await startWith(file);
    expect(await status(service, FIRST)).to.equal(404);
    expect(service.stderrLines()).to.deep.equal([
      `scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: ${file}: cannot be read (ENOENT); the metrics route answers 404 until the file holds a token`,
    ]);
    writeFileSync(file, `${FIRST}\n`);
    await untilStatus(service, FIRST, 200, 'the file created');
    expect(await status(service, SECOND)).to.equal(401);
  });

  it('Kubernetes-style rotation (..data symlink swapped 4 times): every scrape between succeeds with the token then in force', async () => {
    const dir = children.tempDir();
    const version = (n: number, token: string): string => {
      const d = path.join(dir, `..v${n}`);
      mkdirSync(d);
      writeFileSync(path.join(d, 'token'), `${token}\n`);
      return `..v${n}`;
    };
    symlinkSync(version(0, FIRST), path.join(dir, '..data'));
    symlinkSync('..data/token', path.join(dir, 'token'));
    const service = await startWith(path.join(dir, 'token'));
    expect(await status(service, FIRST)).to.equal(200);
    const tokens = [SECOND, FIRST, SECOND, FIRST];
    for (const [i, token] of tokens.entries()) {
      const previous = i === 0 ? FIRST : tokens[i - 1];
      // What kubelet's atomic writer does: new directory, new symlink renamed over ..data, old
      // directory removed.
      const target = version(i + 1, token);
      symlinkSync(target, path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      rmSync(path.join(dir, i === 0 ? '..v0' : `..v${i}`), { recursive: true });
      await pollUntil(`rotation ${i + 1} picked up`, async () => {
        if ((await status(service, token)) === 200) return true;
        // Until the swap is seen the previous token works; at no point is the route closed. The
        // swap may be seen between the two requests: then the new token works from then on.
        if ((await status(service, previous)) !== 200) {
          expect(await status(service, token)).to.equal(200);
        }
        return false;
      });
    }
    expect(service.stderr()).to.equal('');
  });
});

/** The package's own diagnostic lines. */
const ours = (lines: { message: string }[]): string[] =>
  lines.map((line) => line.message).filter((message) => message.startsWith('scanopy-metrics:'));

describe('watchTokenFile: a failed read that does not last revokes nothing', () => {
  let dir: string;
  beforeEach(() => (dir = makeTempDir()));
  afterEach(() => removeTempDir(dir));

  it('a file missing for a few checks, then back with a new token: never revoked in between', async () => {
    const capture = captureDiag();
    const file = path.join(dir, 'token');
    writeFileSync(file, `${FIRST}\n`);
    const seen: string[][] = [];
    // A grace far longer than the test: only a failure that lasts revokes.
    const stop = watchTokenFile(file, (tokens) => seen.push(tokens), {
      intervalMs: 20,
      graceMs: 600_000,
    });
    try {
      unlinkSync(file);
      await pollUntil('the watcher noticed the missing file', () =>
        Promise.resolve(ours(capture.at('debug')).some((message) => message.includes('(ENOENT)'))),
      );
      writeFileSync(file, `${SECOND}\n`);
      await pollUntil('the new token applied', () => Promise.resolve(seen.length > 0));
      expect(seen).to.deep.equal([[SECOND]]);
      expect(capture.at('warn')).to.deep.equal([]);
      expect(ours(capture.at('debug'))[0]).to.equal(
        `scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: ${file}: cannot be read (ENOENT); keeping the previous token(s) unless it lasts`,
      );
    } finally {
      stop();
      capture.restore();
    }
  });

  it('a failure that lasts past the grace revokes: the watcher hands over no token, once', async () => {
    const capture = captureDiag();
    const file = path.join(dir, 'token');
    writeFileSync(file, `${FIRST}\n`);
    const seen: string[][] = [];
    const stop = watchTokenFile(file, (tokens) => seen.push(tokens), {
      intervalMs: 20,
      graceMs: 100,
    });
    try {
      truncateSync(file, 0);
      await pollUntil('revoked', () => Promise.resolve(seen.length > 0));
      // A few more checks of the same empty file change nothing.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).to.deep.equal([[]]);
    } finally {
      stop();
      capture.restore();
    }
  });
});
