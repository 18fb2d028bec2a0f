// Runs Debian's `prometheus` (from scripts/ensure-prometheus.sh) on a loopback port with its own
// storage, waits until it answers /-/ready, and stops it with SIGTERM (SIGKILL after a bound).
// Used by `npm run demo` and by the tests that query a real Prometheus.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort } from './free-port';

export const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';

export interface PrometheusOptions {
  configFile: string;
  /** Storage goes under this directory. */
  dir: string;
  /** A fixed port (0 or unset: a free one). */
  port?: number;
  /** How long to wait for readiness. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface PrometheusServer {
  url: string;
  process: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves once it exited. */
  exited: Promise<void>;
  stop(killAfterMs?: number): Promise<void>;
}

function launch(options: PrometheusOptions, port: number, attempt: number): PrometheusServer {
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${path.join(options.dir, `data-${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let done = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => {
    // 'error' (the command cannot be run) comes without 'close'.
    child.once('error', (error) => {
      output += `\ncannot run ${PROMETHEUS} (apt-get install prometheus): ${error.message}`;
      done = true;
      resolve();
    });
    child.once('close', () => {
      done = true;
      resolve();
    });
  });
  const stop = async (killAfterMs = 10_000): Promise<void> => {
    if (done) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    exited,
    stop,
  };
}

async function ready(server: PrometheusServer, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void server.exited.then(() => (gone = true));
  while (!gone && Date.now() < deadline) {
    try {
      const res = await fetch(`${server.url}/-/ready`);
      await res.text();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}

/** Starts Prometheus and resolves once it is ready; retried on another port if one was taken. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    const server = launch(options, port, attempt);
    if (await ready(server, options.readyTimeoutMs ?? 30_000)) return server;
    await server.stop();
    const output = server.output();
    if (!options.port && attempt < 3 && /address already in use/.test(output)) continue;
    throw new Error(`Prometheus did not become ready on ${server.url}:\n${output.slice(-2000)}`);
  }
}

export interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** GET on Prometheus's HTTP API; throws with the answer unless it is a success. */
export async function prometheusApi<T>(base: string, apiPath: string): Promise<T> {
  const res = await fetch(base + apiPath);
  const text = await res.text();
  let body: { status?: string; data?: T };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${apiPath} answered ${res.status}: ${text}`);
  }
  if (res.status !== 200 || body.status !== 'success' || body.data === undefined) {
    throw new Error(`${apiPath} answered ${res.status}: ${text}`);
  }
  return body.data;
}
