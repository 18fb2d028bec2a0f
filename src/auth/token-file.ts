// The token file (a Docker or Kubernetes secret): read, and re-read when it changes.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { diag } from '@opentelemetry/api';
import { parseTokens } from './token-text';

/** Reads the token(s) of a mounted secret: one per line (or comma-separated), trimmed. */
export function readTokenFile(path: string): { tokens: string[] } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { error: `SCANOPY_METRICS_TOKEN_FILE: cannot read ${path} (${code})` };
  }
  const parsed = parseTokens(text);
  return 'error' in parsed
    ? { error: `SCANOPY_METRICS_TOKEN_FILE: ${path}: ${parsed.error}` }
    : { tokens: parsed.value };
}

/**
 * Re-reads the file when it changes, as a rotated Kubernetes secret does (the mount swaps a
 * symlink, which `fs.watch` misses and a stat poll sees). The poll keeps no process alive. While
 * the file cannot be read or holds no token (a writer that truncates before it writes), the last
 * good tokens stay in force.
 */
export function watchTokenFile(
  path: string,
  onTokens: (tokens: string[]) => void,
  intervalMs = 1000,
): () => void {
  const listener = (current: Stats, previous: Stats): void => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    ) {
      return;
    }
    const read = readTokenFile(path);
    if ('error' in read) diag.warn(`scanopy-metrics: ${read.error}; keeping the previous token(s)`);
    else onTokens(read.tokens);
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}
