// The README's examples, taken from the README as pasted: the library example run in a child
// process that serves the route and records the example's own route by its pattern, and the
// otel-config.yaml of its OTLP push section read by the package's loader.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { loadSettings } from 'scanopy-metrics';

import { expect } from './helpers/chai';
import { childEnv, makeTempDir, REPO, removeTempDir } from './helpers/child';
import { sample } from './helpers/exposition';
import { pollUntil } from './helpers/wait';

/** The first ```js block after the "## Library API" heading. */
function libraryExample(): string {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library API\n'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('no js block in the Library API section');
  return match[1];
}

/** The ```yaml block of the README's "### OTLP push" section. */
function otlpFileExample(): string {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n### OTLP push\n'));
  const match = /```yaml\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ')));
  if (!match) throw new Error('no yaml block in the OTLP push section');
  return match[1];
}

/** A port nobody listens on right now (the example listens on PORT). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the README's library example", () => {
  let dir: string;
  afterEach(() => removeTempDir(dir));

  it('runs as pasted: the route answers and the example route is counted by its pattern', async () => {
    // Inside the repository, so that `require('scanopy-metrics')` finds the package itself.
    dir = makeTempDir();
    const local = path.join(REPO, 'build', `readme-example-${process.pid}`);
    const file = `${local}.js`;
    writeFileSync(file, libraryExample());
    const port = await freePort();
    const child = spawn(process.execPath, [file], {
      cwd: dir,
      env: childEnv({ SCANOPY_METRICS_TOKEN: 'readme-token', PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await pollUntil('the example listens', async () => {
        if (child.exitCode !== null) throw new Error(`the example exited: ${stderr}`);
        return fetch(`${url}/metrics`).then(
          () => true,
          () => false,
        );
      });
      expect(await (await fetch(`${url}/api/v1/hosts/7`)).json()).to.deep.equal({ id: '7' });
      const res = await fetch(`${url}/metrics`, {
        headers: { authorization: 'Bearer readme-token' },
      });
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(
        sample(text, 'http_requests_total', {
          method: 'GET',
          path: '/api/v1/hosts/:id',
          status: '200',
          entity_type: 'anonymous',
        }),
      ).to.equal(1);
      expect(stderr).to.equal('');
    } finally {
      child.kill('SIGTERM');
      await exited;
      removeTempDir(file);
    }
  });
});

describe("the README's otel-config.yaml for OTLP push", () => {
  let dir: string;
  afterEach(() => removeTempDir(dir));

  it('loads as pasted: the route kept, one OTLP reader with what the file says', () => {
    dir = makeTempDir();
    const file = path.join(dir, 'otel-config.yaml');
    writeFileSync(file, otlpFileExample());
    const { settings, problems } = loadSettings(
      { OTEL_CONFIG_FILE: file, OTLP_API_KEY: 'k-123' },
      dir,
    );
    expect(problems).to.deep.equal([]);
    expect(settings.exports).to.deep.equal({
      prometheus: true,
      push: [
        {
          exporter: 'otlp',
          intervalMs: 60_000,
          timeoutMs: 30_000,
          otlp: {
            endpoint: 'http://collector:4318/v1/metrics',
            protocol: 'http/protobuf',
            headers: { 'x-api-key': 'k-123' },
            timeoutMs: 10_000,
            compression: 'gzip',
            temporality: 'cumulative',
          },
        },
      ],
    });
  });
});
