// One last export when the process ends (event loop empty, SIGTERM, SIGINT).
import { diag } from '../diagnostics/diag';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** The longest a final export may hold up the end of the process. */
export const FINAL_EXPORT_MAX_MS = 5000;

/**
 * Exports once more when the process ends, so that the last interval's increments reach the
 * receiver: when the event loop empties (`server.close()` and nothing left to do), and on SIGTERM
 * and SIGINT. On a signal the service has no handler for, the signal is raised again once the
 * export is done (or after `maxMs`), so the process ends as it would without the package. A
 * process that calls `process.exit()` itself ends before any export can be sent.
 */
export function exportOnExit(flush: () => Promise<void>, maxMs = FINAL_EXPORT_MAX_MS): () => void {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => {
    done ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      timer.unref();
      flush().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          diag.warn('scanopy-metrics: the final export failed', error);
          clearTimeout(timer);
          resolve();
        },
      );
    });
    return done;
  };

  const onBeforeExit = (): void => {
    if (done === undefined) void once();
  };
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => {
      const alone = process.listenerCount(signal) === 1;
      void once().then(() => {
        if (!alone) return;
        // Nobody else handles the signal: end the process the way the signal would have.
        process.off(signal, handler);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, handler);
    return { signal, handler };
  });
  process.on('beforeExit', onBeforeExit);
  return () => {
    process.off('beforeExit', onBeforeExit);
    for (const { signal, handler } of handlers) process.off(signal, handler);
  };
}
