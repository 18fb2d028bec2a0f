// SCANOPY_METRICS_TOKEN_FILE in a preloaded child service: the mounted secret's tokens open the
// route, and a rotated secret takes over without a restart (a rewritten file, or a Kubernetes
// secret volume swapping its ..data symlink).
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, IMPORT_PRELOAD, REQUIRE_PRELOAD, fixture } from './helpers/child';
import type { ChildService } from './helpers/child';
import { get } from './helpers/preloaded-service';
import { pollUntil } from './helpers/wait';

const OLD = 'old-token-31b7-5a0e';
const NEW = 'new-token-9c02-d41f';

async function status(service: ChildService, token: string): Promise<number> {
  return (await get(service.url, '/metrics', { Authorization: `Bearer ${token}` })).status;
}

describe('token file', () => {
  const children = new Children();
  afterEach(() => children.stopAll());

  for (const [title, file, nodeArgs] of [
    ['CommonJS service with --require', 'service.cjs', REQUIRE_PRELOAD],
    ['ES-module service with --import', 'service.mjs', IMPORT_PRELOAD],
  ] as const) {
    describe(title, () => {
      it('opens the route with the token of the file, trimmed', async () => {
        const dir = children.tempDir();
        const token = path.join(dir, 'token');
        writeFileSync(token, `  ${OLD}  \n`);
        const service = await children.start({
          fixture: fixture(file),
          nodeArgs,
          env: { SCANOPY_METRICS_TOKEN_FILE: token },
        });
        expect(await status(service, OLD)).to.equal(200);
        expect(await status(service, NEW)).to.equal(401);
        expect(service.stderr()).to.equal('');
      });

      it('rewritten with a new token: the new one opens the route, then the old one is refused', async () => {
        const dir = children.tempDir();
        const token = path.join(dir, 'token');
        writeFileSync(token, `${OLD}\n`);
        const service = await children.start({
          fixture: fixture(file),
          nodeArgs,
          env: { SCANOPY_METRICS_TOKEN_FILE: token },
        });
        expect(await status(service, OLD)).to.equal(200);
        writeFileSync(token, `${NEW}\n`);
        await pollUntil(
          'the new token opens the route',
          async () => (await status(service, NEW)) === 200,
        );
        expect(await status(service, OLD)).to.equal(401);
        expect(await status(service, NEW)).to.equal(200);
        await service.stop();
        expect(service.stderr()).to.equal('');
      });
    });
  }

  it('takes one token per line; rotation to two tokens keeps both', async () => {
    const dir = children.tempDir();
    const token = path.join(dir, 'token');
    writeFileSync(token, `${OLD}\n`);
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN_FILE: token },
    });
    // Overlapping rotation: both tokens for a while, then only the new one.
    writeFileSync(token, `${OLD}\n${NEW}\n`);
    await pollUntil(
      'the new token opens the route',
      async () => (await status(service, NEW)) === 200,
    );
    expect(await status(service, OLD)).to.equal(200);
    writeFileSync(token, `${NEW}\n`);
    await pollUntil('the old token is refused', async () => (await status(service, OLD)) === 401);
    expect(await status(service, NEW)).to.equal(200);
  });

  it('follows a Kubernetes secret volume: ..data symlink swapped to a new directory', async () => {
    // <dir>/token -> ..data/token, ..data -> ..2024_01_01_v1, as the kubelet lays a secret out.
    const dir = children.tempDir();
    mkdirSync(path.join(dir, '..v1'));
    writeFileSync(path.join(dir, '..v1', 'token'), `${OLD}\n`);
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync(path.join('..data', 'token'), path.join(dir, 'token'));
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN_FILE: path.join(dir, 'token') },
    });
    expect(await status(service, OLD)).to.equal(200);

    mkdirSync(path.join(dir, '..v2'));
    writeFileSync(path.join(dir, '..v2', 'token'), `${NEW}\n`);
    symlinkSync('..v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));

    await pollUntil(
      'the new token opens the route',
      async () => (await status(service, NEW)) === 200,
    );
    expect(await status(service, OLD)).to.equal(401);
  });
});
