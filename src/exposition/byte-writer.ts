/**
 * An append-only byte buffer for building a large exposition without building a large string:
 * a 10,000-series scrape as string concatenation spends most of its time in garbage collection.
 */
/** Buffer#utf8Write: what Buffer#write calls after checking its arguments, without the checks. */
interface Utf8Writable {
  utf8Write(s: string, offset: number): number;
}

export class ByteWriter {
  private buf: Buffer;
  private length = 0;

  /** Writes into `initial` if it is a buffer (one that nobody reads any more), else into a new one. */
  constructor(initial: number | Buffer = 64 * 1024) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
  }

  /** The whole buffer written to, to be reused once nobody reads `finish()`'s bytes. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Appends a string as UTF-8. */
  text(s: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.reserve(s.length * 3);
    this.length += (this.buf as unknown as Utf8Writable).utf8Write(s, this.length);
  }

  /** Appends bytes, such as a cached label text. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Appends `src[start..end)`, such as a label text composed elsewhere, without a view of it. */
  range(src: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    const buf = this.buf;
    let at = this.length;
    for (let i = start; i < end; i++) buf[at++] = src[i];
    this.length = at;
  }

  /** How many bytes were written so far. */
  get size(): number {
    return this.length;
  }

  /** Starts again from empty, keeping the buffer. */
  reset(): void {
    this.length = 0;
  }

  /** Appends a number as JavaScript writes it (`${n}`), integers without a detour via a string. */
  number(n: number): void {
    if (Number.isSafeInteger(n) && n >= 0) {
      this.reserve(16);
      if (n === 0) {
        this.buf[this.length++] = 48;
        return;
      }
      let digits = 0;
      for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
      let at = this.length + digits;
      this.length = at;
      for (let m = n; m > 0; m = Math.floor(m / 10)) this.buf[--at] = 48 + (m % 10);
      return;
    }
    this.text(n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : `${n}`);
  }

  /** The bytes written so far: a view of `buffer`; the writer is not to be used afterwards. */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}
