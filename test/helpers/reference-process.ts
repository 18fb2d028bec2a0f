// The reference service as users run it: `node [--require <repo>/dist/preload/register.js]
// build/reference-service/server.js` in a child process on port 0, in an empty working directory,
// with an environment cleared of SCANOPY_*/OTEL_* variables. Resolves once the service prints the
// address it listens on; every child is stopped (SIGTERM, then SIGKILL after a bound) by stopAll().
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

import { REGISTER_CJS, REPO, childEnv, makeTempDir, removeTempDir } from './child';
import type { Exit } from './child';

export const REFERENCE_SERVER = path.join(REPO, 'build', 'reference-service', 'server.js');
const LISTENING = /^scanopy reference service listening on http:\/\/127\.0\.0\.1:(\d+)$/m;

export interface ReferenceOptions {
  /** `--require <repo>/dist/preload/register.js` before the server. Default true. */
  preload?: boolean;
  /** Variables on top of `childEnv()` and SCANOPY_SERVER_PORT=0. */
  env?: Record<string, string | undefined>;
}

export interface ReferenceProcess {
  url: string;
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exited and its pipes closed. */
  closed: Promise<Exit>;
  /** SIGTERM (unless it already exited), SIGKILL if still there after `killAfterMs`. */
  stop(killAfterMs?: number): Promise<Exit>;
}

export class ReferenceProcesses {
  private readonly running: ReferenceProcess[] = [];
  private readonly dirs: string[] = [];

  async start(options: ReferenceOptions = {}): Promise<ReferenceProcess> {
    const dir = makeTempDir();
    this.dirs.push(dir);
    const nodeArgs = options.preload === false ? [] : ['--require', REGISTER_CJS];
    const child = spawn(process.execPath, [...nodeArgs, REFERENCE_SERVER], {
      cwd: dir,
      argv0: 'node',
      env: childEnv({ SCANOPY_SERVER_PORT: '0', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('error', () => undefined);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = new Promise<Exit>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
    const stop = async (killAfterMs = 5000): Promise<Exit> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        const exit = await closed;
        clearTimeout(timer);
        return exit;
      }
      return closed;
    };
    const service: ReferenceProcess = {
      url: '',
      process: child,
      stdout: () => stdout,
      stderr: () => stderr,
      closed,
      stop,
    };
    this.running.push(service);
    const port = await new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        reject(
          new Error(
            `reference service exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`,
          ),
        );
      child.once('exit', onExit);
      child.stdout.on('data', function onData() {
        const match = LISTENING.exec(stdout);
        if (match === null) return;
        child.off('exit', onExit);
        child.stdout.off('data', onData);
        resolve(match[1]);
      });
    });
    service.url = `http://127.0.0.1:${port}`;
    return service;
  }

  /** Stops every child started here, in parallel, and removes their working directories. */
  async stopAll(): Promise<void> {
    const running = this.running.splice(0);
    await Promise.all(running.map((service) => service.stop()));
    for (const dir of this.dirs.splice(0)) removeTempDir(dir);
  }
}
