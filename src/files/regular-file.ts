// Reading configuration and secrets only from regular files of bounded size.
// fs.promises is loaded at its first use, not with this module (node:fs/promises at start-up).
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  promises as fsPromises,
  readSync,
  type Stats,
} from 'node:fs';

/**
 * Reads configuration and secrets only from regular files of bounded size. The file is opened
 * non-blocking (a FIFO without a writer would otherwise block the open) and checked with fstat
 * on the opened descriptor, so what is read is what was checked: a FIFO, a device such as
 * /dev/zero, a directory or a socket is refused before a byte is read, and so is a file over the
 * cap (read at most cap + 1 bytes, in case it grows meanwhile).
 */
export type FileRead = { text: string } | { error: string };

export const KiB = 1024;
export const MiB = 1024 * KiB;

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function kind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeCap(maxBytes: number): string {
  const unit = maxBytes % MiB === 0 ? `${maxBytes / MiB} MiB` : `${maxBytes / KiB} KiB`;
  return `${unit} (${maxBytes} bytes)`;
}

/** The reason a file of these stats is not read, if any. */
function refusal(stats: Stats, maxBytes: number): string | undefined {
  if (!stats.isFile()) return `expected a regular file, got ${kind(stats)}`;
  if (stats.size > maxBytes) {
    return `expected at most ${describeCap(maxBytes)}, got ${stats.size} bytes`;
  }
  return undefined;
}

function tooLarge(maxBytes: number): string {
  return `expected at most ${describeCap(maxBytes)}, got more`;
}

function cannotRead(error: unknown): string {
  return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`;
}

/** Reads a regular file of at most `maxBytes` as UTF-8, synchronously (start-up only). */
export function readRegularFileSync(path: string, maxBytes: number): FileRead {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (error) {
    return { error: cannotRead(error) };
  }
  try {
    const refused = refusal(fstatSync(fd), maxBytes);
    if (refused !== undefined) return { error: refused };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) return { error: tooLarge(maxBytes) };
    }
    return { text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { error: cannotRead(error) };
  } finally {
    closeSync(fd);
  }
}

/** The same, without blocking the event loop: for re-reads while the service runs. */
export async function readRegularFile(path: string, maxBytes: number): Promise<FileRead> {
  let handle;
  try {
    handle = await fsPromises.open(path, FLAGS);
  } catch (error) {
    return { error: cannotRead(error) };
  }
  try {
    const refused = refusal(await handle.stat(), maxBytes);
    if (refused !== undefined) return { error: refused };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { error: tooLarge(maxBytes) };
    }
    return { text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { error: cannotRead(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
