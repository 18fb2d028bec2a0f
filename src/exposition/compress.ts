/**
 * Compression of the exposition with node:zlib's asynchronous API, which runs on libuv's thread
 * pool: a 12 MB exposition takes tens of milliseconds to gzip, which on the main thread would stall
 * every request of the service. Concurrent scrapes of one collection share one compression.
 */
import zlib from 'node:zlib';
import type { ContentCoding } from './negotiate';

/** Below this size a body is sent as it is: compressing it saves less than it costs. */
export const MIN_COMPRESSED_SIZE = 1024;

/** zlib's zstd functions, present from Node 22.15 and 23.8 (absent from @types/node 20). */
type ZstdCompress = (
  buffer: Buffer,
  callback: (error: Error | null, result: Buffer) => void,
) => void;

const zstdCompress = (zlib as unknown as { zstdCompress?: ZstdCompress }).zstdCompress;

/** The codings this Node can write, in the package's order of preference. */
export const OFFERED_CODINGS: readonly ContentCoding[] =
  typeof zstdCompress === 'function' ? ['zstd', 'gzip', 'identity'] : ['gzip', 'identity'];

/** Fast levels: metric text compresses ~25× at gzip level 1 already, at a third of level 6's CPU. */
const GZIP_OPTIONS: zlib.ZlibOptions = { level: 1 };

const shared = new WeakMap<Buffer, Map<ContentCoding, Promise<Buffer>>>();

/** `bytes` compressed with `coding`, off the main thread; the same promise for the same bytes. */
export function compress(bytes: Buffer, coding: 'gzip' | 'zstd'): Promise<Buffer> {
  let byCoding = shared.get(bytes);
  if (byCoding === undefined) {
    byCoding = new Map();
    shared.set(bytes, byCoding);
  }
  let result = byCoding.get(coding);
  if (result === undefined) {
    result = new Promise<Buffer>((resolve, reject) => {
      const done = (error: Error | null, out: Buffer): void =>
        error ? reject(error) : resolve(out);
      if (coding === 'zstd' && zstdCompress !== undefined) zstdCompress(bytes, done);
      else zlib.gzip(bytes, GZIP_OPTIONS, done);
    });
    byCoding.set(coding, result);
  }
  return result;
}
