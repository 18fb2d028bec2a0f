// The token file (a Docker or Kubernetes secret): read, and followed while the service runs.
// fs.promises is loaded at its first use, not with this module (node:fs/promises at start-up).
import { promises as fsPromises } from 'node:fs';
import { diag } from '../diagnostics/diag';
import { parseTokens } from './token-text';
import { KiB, readRegularFile, readRegularFileSync, type FileRead } from '../files/regular-file';

export const TOKEN_FILE_VARIABLE = 'SCANOPY_METRICS_TOKEN_FILE';
/** A token file holds a few tokens; anything larger is not one. */
export const TOKEN_FILE_MAX_BYTES = 64 * KiB;

export type TokenFileRead = { tokens: string[] } | { error: string };

function tokensOf(read: FileRead): TokenFileRead {
  if ('error' in read) return read;
  const parsed = parseTokens(read.text);
  return 'error' in parsed ? { error: parsed.error } : { tokens: parsed.value };
}

/**
 * Reads the token(s) of a mounted secret at start-up: one per line (or comma-separated), trimmed,
 * from a regular file of at most 64 KiB. The error names the file, never a token.
 */
export function readTokenFile(path: string): TokenFileRead {
  return tokensOf(readRegularFileSync(path, TOKEN_FILE_MAX_BYTES));
}

export interface WatchOptions {
  /** How often the file is checked. Default 1 s. */
  intervalMs?: number;
  /** What the start-up read gave: a failure it reported is not reported again. */
  initial?: TokenFileRead;
  /**
   * How long a failed read (missing, empty, not a regular file, unreadable) must last before the
   * tokens are revoked. A Kubernetes secret update swaps a symlink and can fail one read; a writer
   * that truncates before it writes fails one too. Default 2 s.
   */
  graceMs?: number;
}

/**
 * Follows the token file while the service runs. It is checked every second, off the hot path
 * (an asynchronous stat, and an asynchronous bounded read when it changed). New tokens replace the
 * old ones as soon as they are read. A file that cannot give a token (deleted, emptied, replaced
 * by a directory or a FIFO, over 64 KiB) keeps the previous tokens for `graceMs`, then revokes
 * them: `onTokens([])`, and the route answers 404 until the file holds a token again. A file that
 * did not exist at start-up is picked up when it appears. The timer keeps no process alive.
 */
export function watchTokenFile(
  path: string,
  onTokens: (tokens: string[]) => void,
  options: WatchOptions = {},
): () => void {
  const intervalMs = options.intervalMs ?? 1000;
  const graceMs = options.graceMs ?? 2000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastSignature: string | undefined;
  let failingSince: number | undefined;
  const initialError =
    options.initial && 'error' in options.initial ? options.initial.error : undefined;
  // A file that gave no token at start-up was reported then, and no token is in force.
  let revoked = initialError !== undefined;
  let lastError = initialError;
  /**
   * The tokens handed over last: a file read again with the same tokens (a check that stat()ed
   * it while it was being written, and read it whole, sees it change once more) hands over none.
   */
  let handedOver =
    options.initial && 'tokens' in options.initial ? options.initial.tokens.join('\n') : undefined;

  const signature = async (): Promise<string> => {
    try {
      const s = await fsPromises.stat(path);
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.mode}`;
    } catch (error) {
      return `error:${(error as NodeJS.ErrnoException).code ?? ''}`;
    }
  };

  const check = async (): Promise<void> => {
    const now = await signature();
    // Unchanged and in force: nothing to read. While failing, read again until it resolves.
    if (now === lastSignature && failingSince === undefined) return;
    lastSignature = now;
    const read = tokensOf(await readRegularFile(path, TOKEN_FILE_MAX_BYTES));
    if (stopped) return;
    if ('tokens' in read) {
      failingSince = undefined;
      lastError = undefined;
      const tokens = read.tokens.join('\n');
      if (revoked || tokens !== handedOver) onTokens(read.tokens);
      revoked = false;
      handedOver = tokens;
      return;
    }
    const at = Date.now();
    if (failingSince === undefined) failingSince = at;
    if (read.error !== lastError) {
      lastError = read.error;
      diag.debug(
        `scanopy-metrics: ${TOKEN_FILE_VARIABLE}: ${path}: ${read.error}; keeping the previous token(s) unless it lasts`,
      );
    }
    if (!revoked && at - failingSince >= graceMs) {
      revoked = true;
      diag.warn(
        `scanopy-metrics: ${TOKEN_FILE_VARIABLE}: ${path}: ${read.error}; no token is valid (the metrics route answers 404) until it holds one`,
      );
      onTokens([]);
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      check()
        .catch((error: unknown) => diag.debug('scanopy-metrics: token file check failed', error))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
