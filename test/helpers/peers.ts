// Real scrapers as child processes (Debian's prometheus and victoria-metrics, each on a free
// loopback port with its own storage), their HTTP APIs, and a recording proxy that shows which
// format and coding a scraper negotiated: what it asked for and what it got, header by header.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './prometheus-server';

export const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
export const VICTORIA_METRICS = process.env.VICTORIA_METRICS ?? 'victoria-metrics';

export interface Proc {
  child: ChildProcess;
  output(): string;
  done(): boolean;
  exited: Promise<void>;
}

export function startProcess(command: string, args: string[], cwd: string): Proc {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let finished = false;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      output += `\ncannot run ${command}: ${error.message}`;
      finished = true;
      resolve();
    });
    child.once('exit', () => {
      finished = true;
      resolve();
    });
  });
  return { child, output: () => output, done: () => finished, exited };
}

/** SIGTERM by pid, then waits for the exit (SIGKILL after 10 s). */
export async function stopProcess(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.done() || proc.child.pid === undefined) return;
  proc.child.kill('SIGTERM');
  const grace = new AbortController();
  const killed = await Promise.race([
    proc.exited.then(() => false),
    sleep(10_000, true, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (killed && !proc.done()) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

export function tail(text: string, chars = 3000): string {
  return text.length > chars ? `...${text.slice(-chars)}` : text;
}

export { freePort };

/** Polls `check` until it returns something; a wait for a condition, not a timing assertion. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  state: () => string,
  timeoutMs = 45_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${state()}`);
    }
    await sleep(intervalMs);
  }
}

export interface Server {
  proc: Proc;
  url: string;
}

async function startServer(
  name: string,
  dir: string,
  args: (port: number, attempt: number) => string[],
  command: string,
  readyPath: string,
): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = startProcess(command, args(port, attempt), dir);
    try {
      await waitFor(
        `${name} to be ready on ${url}`,
        async () => {
          if (proc.done()) throw new Error(`${name} exited: ${tail(proc.output())}`);
          try {
            const res = await fetch(url + readyPath);
            await res.text();
            return res.status === 200 ? true : undefined;
          } catch {
            return undefined;
          }
        },
        () => `${name} output: ${tail(proc.output())}`,
        30_000,
        200,
      );
      return { proc, url };
    } catch (error) {
      await stopProcess(proc);
      if (attempt < 3 && /address already in use/.test(proc.output())) continue;
      throw error;
    }
  }
}

/** Prometheus with `configFile`, its storage under `dir`, and `flags` (feature flags). */
export function startPrometheus(
  configFile: string,
  dir: string,
  flags: string[] = [],
): Promise<Server> {
  return startServer(
    'Prometheus',
    dir,
    (port, attempt) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, `prometheus-${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...flags,
    ],
    PROMETHEUS,
    '/-/ready',
  );
}

/** VictoriaMetrics single-node scraping with `scrapeConfigFile`, its storage under `dir`. */
export function startVictoriaMetrics(scrapeConfigFile: string, dir: string): Promise<Server> {
  return startServer(
    'VictoriaMetrics',
    dir,
    (port, attempt) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${path.join(dir, `victoria-${attempt}`)}`,
      `-promscrape.config=${scrapeConfigFile}`,
      // Query what was just scraped: by default the last 30 s are hidden from queries.
      '-search.latencyOffset=0s',
      '-loggerLevel=ERROR',
    ],
    VICTORIA_METRICS,
    '/health',
  );
}

interface ApiBody<T> {
  status: string;
  data: T;
  error?: string;
}

export async function api<T>(base: string, apiPath: string): Promise<T> {
  const res = await fetch(base + apiPath);
  const body = (await res.json()) as ApiBody<T>;
  if (res.status !== 200 || body.status !== 'success') {
    throw new Error(`${apiPath} answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.data;
}

export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

export function query(base: string, promql: string): Promise<QueryResult[]> {
  return api<{ result: QueryResult[] }>(
    base,
    `/api/v1/query?query=${encodeURIComponent(promql)}`,
  ).then((data) => data.result);
}

/** One request through the proxy: what the scraper asked for, and what it was answered. */
export interface Exchange {
  accept: string | undefined;
  acceptEncoding: string | undefined;
  status: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  bytes: number;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

/** A reverse proxy to `target` that records every exchange and changes nothing in it. */
export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => (bytes += chunk.length));
        answer.once('end', () =>
          exchanges.push({
            accept: req.headers.accept,
            acceptEncoding: req.headers['accept-encoding'],
            status: answer.statusCode ?? 0,
            contentType: answer.headers['content-type'],
            contentEncoding: answer.headers['content-encoding'],
            bytes,
          }),
        );
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
