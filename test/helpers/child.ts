// Starts a fixture service in a child process the way users start theirs
// (`node --require scanopy-metrics/register server.js`), waits for the port(s) it prints, keeps its
// stderr, and stops it (SIGTERM, then waits for it to exit and its pipes to close).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository (this file is compiled to build/test/helpers/). */
export const REPO = path.resolve(__dirname, '../../..');
/** The compiled package, as `npm run build` leaves it. */
export const DIST = path.join(REPO, 'dist');
export const REGISTER_CJS = path.join(DIST, 'preload', 'register.js');
export const REGISTER_ESM = path.join(DIST, 'preload', 'register.mjs');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');

/** `--require <dist/preload/register.js>`: works from any working directory. */
export const REQUIRE_PRELOAD: readonly string[] = ['--require', REGISTER_CJS];
/** `--import <dist/preload/register.mjs>`: works from any working directory. */
export const IMPORT_PRELOAD: readonly string[] = ['--import', REGISTER_ESM];

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

/**
 * The test process's environment without any SCANOPY_*, OTEL_* or FIXTURE_* variable, plus
 * `extra` (an undefined value leaves the variable out).
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(SCANOPY_|OTEL_|FIXTURE_)/.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * A fresh empty directory, by its real path (what a child's `process.cwd()` reports);
 * `removeTempDir` deletes it.
 */
export function makeTempDir(prefix = 'scanopy-metrics-test-'): string {
  return realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface StartOptions {
  /** Absolute path of the fixture (see `fixture()`). */
  fixture: string;
  /** Node options before the fixture, e.g. REQUIRE_PRELOAD; none by default. */
  nodeArgs?: readonly string[];
  /** Variables set on top of `childEnv()`. */
  env?: Record<string, string | undefined>;
  /** Working directory; an empty temporary directory unless given. */
  cwd?: string;
  /**
   * The child's `process.argv0`; default `node`, as when started from a shell or an npm script
   * (the SDK's default service.name is `unknown_service:<argv0>`).
   */
  argv0?: string;
  /** How many `port <n>` lines to wait for (one per app the fixture serves). Default 1. */
  ports?: number;
  /** The node binary; default the one running the tests. */
  execPath?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildService {
  /** The ports the fixture printed, in order. */
  ports: number[];
  /** `http://127.0.0.1:PORT` of the first port. */
  url: string;
  /** `http://127.0.0.1:PORT` of every port. */
  urls: string[];
  process: ChildProcess;
  /** Everything the child wrote on stderr so far. */
  stderr(): string;
  /** The non-empty stderr lines so far. */
  stderrLines(): string[];
  /** SIGTERM (unless it already exited), then waits for the exit and closed pipes. */
  stop(): Promise<Exit>;
}

const PORT_LINE = /^port (\d+)$/;

/**
 * Every child started through one `Children` is stopped by `stopAll()`; call it in after/afterEach
 * so that no process outlives its test (mocha runs without --exit).
 */
export class Children {
  private readonly running: ChildService[] = [];
  private readonly tempDirs: string[] = [];

  /** A temporary directory removed by `stopAll()`. */
  tempDir(): string {
    const dir = makeTempDir();
    this.tempDirs.push(dir);
    return dir;
  }

  async start(options: StartOptions): Promise<ChildService> {
    const wanted = options.ports ?? 1;
    const cwd = options.cwd ?? this.tempDir();
    const child = spawn(
      options.execPath ?? process.execPath,
      [...(options.nodeArgs ?? []), options.fixture],
      {
        cwd,
        argv0: options.argv0 ?? 'node',
        env: childEnv(options.env),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // A failure to spawn also rejects the start below; this keeps a late one from throwing.
    child.on('error', () => undefined);
    let stderr = '';
    let stdout = '';
    const ports: number[] = [];
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    const closed = new Promise<Exit>((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const service: ChildService = {
      ports,
      url: '',
      urls: [],
      process: child,
      stderr: () => stderr,
      stderrLines: () => stderr.split('\n').filter((line) => line !== ''),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          // A service that does not stop on SIGTERM is killed rather than left running.
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          const exit = await closed;
          clearTimeout(timer);
          return exit;
        }
        return closed;
      },
    };
    this.running.push(service);

    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        reject(
          new Error(
            `${path.basename(options.fixture)} exited (code ${code}, signal ${signal}) before printing ${wanted} port(s); stderr:\n${stderr}`,
          ),
        );
      };
      child.once('error', reject);
      child.once('exit', onExit);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        let newline: number;
        while ((newline = stdout.indexOf('\n')) >= 0) {
          const line = stdout.slice(0, newline).trim();
          stdout = stdout.slice(newline + 1);
          const match = PORT_LINE.exec(line);
          if (match) ports.push(Number(match[1]));
        }
        if (ports.length >= wanted) {
          child.off('exit', onExit);
          child.off('error', reject);
          resolve();
        }
      });
    });
    service.urls = ports.map((port) => `http://127.0.0.1:${port}`);
    service.url = service.urls[0];
    return service;
  }

  /** Stops every child started here (in parallel) and removes the temporary directories. */
  async stopAll(): Promise<void> {
    const running = this.running.splice(0);
    await Promise.all(running.map((child) => child.stop()));
    for (const dir of this.tempDirs.splice(0)) removeTempDir(dir);
  }
}
