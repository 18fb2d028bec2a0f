// A real Prometheus (Debian's `prometheus`) scraping given targets, on a free loopback port with
// its own storage in a temporary directory, and the parts of its HTTP API the tests read.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';

const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Checks every `intervalMs` until `check` returns a value; fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

export interface ScrapeJob {
  name: string;
  /** `127.0.0.1:PORT` of each target. */
  targets: string[];
  token: string;
}

export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RangeResult {
  metric: Record<string, string>;
  values: [number, string][];
}

export class PrometheusServer {
  private output = '';
  private exited = false;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.closed = new Promise((resolve) => {
      child.once('error', (e) => {
        this.output += `\ncannot run ${PROMETHEUS}: ${e.message}`;
        this.exited = true;
        resolve();
      });
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  /** Prometheus scraping `job` every second, ready to answer. */
  static async start(dir: string, job: ScrapeJob): Promise<PrometheusServer> {
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, job.token);
    const config = path.join(dir, 'prometheus.yml');
    await writeFile(
      config,
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [
          {
            job_name: job.name,
            metrics_path: '/metrics',
            authorization: { type: 'Bearer', credentials_file: tokenFile },
            static_configs: [{ targets: job.targets }],
          },
        ],
      }),
    );
    const port = await freePort();
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`);
    await waitUntil(`Prometheus ready on port ${port}`, async () => {
      if (server.exited) throw new Error(`Prometheus exited: ${server.output.slice(-2000)}`);
      try {
        const res = await fetch(`${server.url}/-/ready`);
        await res.text();
        return res.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    });
    return server;
  }

  private async api<T>(apiPath: string): Promise<T> {
    const res = await fetch(this.url + apiPath);
    const body = (await res.json()) as { status: string; data: T };
    if (res.status !== 200 || body.status !== 'success') {
      throw new Error(`${apiPath} answered ${res.status}: ${JSON.stringify(body)}`);
    }
    return body.data;
  }

  /** An instant query, at `time` (seconds) if given. */
  query(promql: string, time?: number): Promise<QueryResult[]> {
    const at = time === undefined ? '' : `&time=${time}`;
    return this.api<{ result: QueryResult[] }>(
      `/api/v1/query?query=${encodeURIComponent(promql)}${at}`,
    ).then((d) => d.result);
  }

  /** The raw samples of a range selector (`metric[10m]`), with their timestamps. */
  samples(selector: string): Promise<RangeResult[]> {
    return this.api<{ result: RangeResult[] }>(
      `/api/v1/query?query=${encodeURIComponent(selector)}`,
    ).then((d) => d.result);
  }

  /** Scrape health of every target. */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const data = await this.api<{
      activeTargets: { health: string; lastError: string; scrapeUrl: string }[];
    }>('/api/v1/targets?state=active');
    return data.activeTargets;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const grace = new AbortController();
    const late = await Promise.race([
      this.closed.then(() => false),
      sleep(10_000, true, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (late && !this.exited) {
      this.child.kill('SIGKILL');
      await this.closed;
    }
  }
}

/**
 * `increase()` of the one series `selector` matches, over exactly the span of its samples and
 * evaluated at its last one: with the first and last samples on the range's ends Prometheus
 * extrapolates nothing, so the answer is exact (last minus first, plus whatever Prometheus took
 * for counter resets, which `resets` counts).
 */
export async function exactIncrease(
  prometheus: PrometheusServer,
  selector: string,
): Promise<{ increase: number; resets: number; samples: number; first: number; last: number }> {
  const raw = await prometheus.samples(`${selector}[1h]`);
  if (raw.length !== 1) throw new Error(`${selector}: expected one series, found ${raw.length}`);
  const values = raw[0].values;
  const start = values[0][0];
  const end = values[values.length - 1][0];
  const range = `${Math.round((end - start) * 1000)}ms`;
  const value = async (fn: string): Promise<number> => {
    const result = await prometheus.query(`${fn}(${selector}[${range}])`, end);
    if (result.length !== 1) throw new Error(`${fn}(${selector}): ${result.length} results`);
    return Number(result[0].value[1]);
  };
  return {
    increase: await value('increase'),
    resets: await value('resets'),
    samples: values.length,
    first: Number(values[0][1]),
    last: Number(values[values.length - 1][1]),
  };
}
