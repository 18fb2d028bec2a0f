// Starts the benchmark's child processes, pinned to one core each, talks to them over IPC, and
// makes sure none of them outlives the run, whatever happens to it.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import type { Ready, Reply, Request } from './rpc';

export interface ChildOptions {
  /** Shown in errors. */
  name: string;
  /** Absolute path of the compiled module to run. */
  module: string;
  args?: string[];
  /** Node options, e.g. `--require <preload>` or `--expose-gc`. */
  nodeArgs?: string[];
  /** Core to pin the whole process (every thread) to, when taskset is available. */
  cpu?: number;
  env?: NodeJS.ProcessEnv;
  /** How long the child may take to say it is ready. Default 30 s. */
  readyTimeoutMs?: number;
  /**
   * A command the child runs under, e.g. `valgrind --tool=callgrind`: `wrapper... node
   * nodeArgs... module args...`. Such a child is not pinned.
   */
  wrapper?: readonly string[];
}

const live = new Set<ChildProcess>();

let tasksetAvailable: boolean | undefined;

/** Whether `taskset` exists and may change this process's affinity. */
export function canPin(): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['-p', String(process.pid)]).status === 0;
  return tasksetAvailable;
}

/** Pins every thread of this process to `cpu`; returns whether it worked. */
export function pinSelf(cpu: number): boolean {
  if (!canPin()) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)]).status === 0;
}

export class Child<Info = unknown> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private exitError: Error | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly info: Info,
  ) {
    proc.on('message', (message: unknown) => {
      const reply = message as Reply;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(`${name}: ${reply.error ?? 'failed'}`));
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        this.exitError = new Error(`${name} exited (code ${code}, signal ${signal})`);
        for (const waiting of this.pending.values()) waiting.reject(this.exitError);
        this.pending.clear();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Forks the module and waits for its `ready` (see rpc.ts). */
  static start<Info = unknown>(options: ChildOptions): Promise<Child<Info>> {
    const nodeArgs = options.nodeArgs ?? [];
    const wrapper = options.wrapper ?? [];
    const pinned = wrapper.length === 0 && options.cpu !== undefined && canPin();
    const prefix = pinned ? ['taskset', '-c', String(options.cpu)] : wrapper;
    // fork() runs `execPath ...execArgv module ...args`; through taskset (or a wrapper) the IPC
    // channel (an inherited fd) survives the exec, and every thread Node later creates inherits
    // the affinity.
    const proc = fork(options.module, options.args ?? [], {
      execPath: prefix.length > 0 ? prefix[0] : process.execPath,
      execArgv: prefix.length > 0 ? [...prefix.slice(1), process.execPath, ...nodeArgs] : nodeArgs,
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    live.add(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        proc.kill('SIGKILL');
        reject(
          new Error(`${options.name} did not start within ${options.readyTimeoutMs ?? 30000} ms`),
        );
      }, options.readyTimeoutMs ?? 30000);
      const onMessage = (message: unknown): void => {
        const ready = message as Partial<Ready>;
        if (ready.ready !== true) return;
        cleanup();
        resolve(new Child<Info>(options.name, proc, ready.info as Info));
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        live.delete(proc);
        reject(new Error(`${options.name} exited while starting (code ${code}, signal ${signal})`));
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        proc.off('error', onError);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      proc.once('error', onError);
    });
  }

  /** Calls a handler of the child and waits for its result. */
  call<T>(type: string, payload?: unknown, timeoutMs = 300_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: "${type}" took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.proc.send({ id, type, payload } satisfies Request);
    });
  }

  /** SIGTERM, then SIGKILL if it is still there after a second. */
  async stop(): Promise<void> {
    if (!live.has(this.proc)) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 1000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops every child in parallel. */
export async function stopAll(children: readonly (Child | undefined)[]): Promise<void> {
  await Promise.all(children.map((child) => child?.stop() ?? Promise.resolve()));
}

/** Last resort, synchronous (usable in an `exit` handler): SIGKILL whatever is still running. */
export function killAllNow(): void {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
}

/** How many children are still running (the run checks it is 0 at the end). */
export function liveChildren(): number {
  return live.size;
}
