// The child side of the orchestrator's IPC protocol (children.ts is the parent side): a child
// registers named handlers, then says it is ready. Messages sent to a child before it listens are
// lost, so the parent waits for that `ready` before calling anything.

export interface Request {
  id: number;
  type: string;
  payload?: unknown;
}

export interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Ready {
  ready: true;
  info?: unknown;
}

export type Handler = (payload: unknown) => unknown;

function send(message: Reply | Ready): void {
  if (!process.send) throw new Error('this module runs as a child of bench/run.js (fork with IPC)');
  process.send(message);
}

export function serve(handlers: Record<string, Handler>, info?: unknown): void {
  process.on('message', (message: unknown) => {
    const { id, type, payload } = message as Request;
    void (async () => {
      try {
        const handler = handlers[type];
        if (!handler) throw new Error(`unknown request "${type}"`);
        const result: unknown = await handler(payload);
        send({ id, ok: true, result });
      } catch (error) {
        send({
          id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  // The orchestrator went away (finished, crashed or was killed): never outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, info });
}

/** For a child that fails while starting: report it, then exit non-zero. */
export function failStart(error: unknown): never {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}

/** `gc()`, which the children that need it are started with (`--expose-gc`). */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('start this child with --expose-gc');
  collect();
}
