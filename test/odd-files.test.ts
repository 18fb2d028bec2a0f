// Configuration and token files are read only when they are regular files of a bounded size
// (otel-config.yaml: 1 MiB, token file: 64 KiB): a FIFO, /dev/zero, /dev/urandom, a directory or
// an oversized file is refused with one stderr line naming the variable, without blocking, and the
// service starts and serves either way. Real FIFOs (mkfifo) and real device files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from './helpers/chai';
import { Children, REQUIRE_PRELOAD, fixture } from './helpers/child';
import { get, TOKEN } from './helpers/preloaded-service';

const DISABLED = '; the metrics route is disabled (404)';
const WAITING = '; the metrics route answers 404 until the file holds a token';

interface OddFile {
  title: string;
  /** Makes the file in `dir`, returns its path. */
  make: (dir: string) => string;
  /** What the line says about it. */
  got: string;
}

const ODD: OddFile[] = [
  {
    title: 'a FIFO with no writer',
    make: (dir) => {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      return fifo;
    },
    got: 'expected a regular file, got a FIFO',
  },
  {
    title: '/dev/zero',
    make: () => '/dev/zero',
    got: 'expected a regular file, got a character device',
  },
  {
    title: '/dev/urandom',
    make: () => '/dev/urandom',
    got: 'expected a regular file, got a character device',
  },
  {
    title: 'a directory',
    make: (dir) => {
      mkdirSync(path.join(dir, 'secret.d'));
      return path.join(dir, 'secret.d');
    },
    got: 'expected a regular file, got a directory',
  },
];

describe('odd configuration and token files', function () {
  this.timeout(30_000);
  const children = new Children();
  afterEach(() => children.stopAll());

  async function startAndCheck(env: Record<string, string>, cwd?: string): Promise<string[]> {
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env,
      cwd,
    });
    const hosts = await get(service.url, '/api/v1/hosts/1');
    expect(hosts.status).to.equal(200);
    const scrape = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(scrape.status).to.equal(404);
    expect(scrape.body).to.equal('Metrics not enabled');
    await service.stop();
    return service.stderrLines();
  }

  for (const odd of ODD) {
    it(`SCANOPY_METRICS_TOKEN_FILE is ${odd.title}: one line, the service starts`, async () => {
      const file = odd.make(children.tempDir());
      const lines = await startAndCheck({ SCANOPY_METRICS_TOKEN_FILE: file });
      expect(lines).to.deep.equal([
        `scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: ${file}: ${odd.got}${WAITING}`,
      ]);
    });

    it(`OTEL_CONFIG_FILE is ${odd.title}: one line, the service starts`, async () => {
      const file = odd.make(children.tempDir());
      const lines = await startAndCheck({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_CONFIG_FILE: file });
      expect(lines).to.deep.equal([
        `scanopy-metrics: OTEL_CONFIG_FILE: ${file}: ${odd.got}${DISABLED}`,
      ]);
    });
  }

  it('./otel-config.yaml as a FIFO (no variable): one line naming the file, the service starts', async () => {
    const dir = children.tempDir();
    execFileSync('mkfifo', [path.join(dir, 'otel-config.yaml')]);
    const lines = await startAndCheck({ SCANOPY_METRICS_TOKEN: TOKEN }, dir);
    expect(lines).to.deep.equal([
      `scanopy-metrics: ${path.join(dir, 'otel-config.yaml')}: expected a regular file, got a FIFO${DISABLED}`,
    ]);
  });

  it('a 12 MB otel-config.yaml is refused without being parsed (the cap is 1 MiB)', async () => {
    const dir = children.tempDir();
    const file = path.join(dir, 'big.yaml');
    const entry = '  - name: attribute\n    value: ' + 'x'.repeat(100) + '\n';
    writeFileSync(file, "file_format: '1.0'\nresource:\n  attributes:\n" + entry.repeat(95_000));
    const lines = await startAndCheck({ SCANOPY_METRICS_TOKEN: TOKEN, OTEL_CONFIG_FILE: file });
    expect(lines).to.deep.equal([
      `scanopy-metrics: OTEL_CONFIG_FILE: ${file}: expected at most 1 MiB (1048576 bytes), got 12540043 bytes${DISABLED}`,
    ]);
  });

  it('a 10 MB token file is refused without being read (the cap is 64 KiB)', async () => {
    const dir = children.tempDir();
    const file = path.join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`.repeat(500_000));
    const lines = await startAndCheck({ SCANOPY_METRICS_TOKEN_FILE: file });
    expect(lines).to.deep.equal([
      `scanopy-metrics: SCANOPY_METRICS_TOKEN_FILE: ${file}: expected at most 64 KiB (65536 bytes), got 10500000 bytes${WAITING}`,
    ]);
  });

  it('files of exactly the cap are read: a 64 KiB token file', async () => {
    const dir = children.tempDir();
    const file = path.join(dir, 'token');
    const line = `${TOKEN}\n`;
    writeFileSync(file, line + ' '.repeat(65_536 - line.length));
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN_FILE: file },
    });
    const scrape = await get(service.url, '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(scrape.status).to.equal(200);
    expect(service.stderr()).to.equal('');
  });
});
