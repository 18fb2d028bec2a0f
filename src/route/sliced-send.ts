// Sends a large body a slice a turn, so that copying it into the socket never holds the loop long.

/** Bodies longer than this go out in slices of this many bytes, one per turn at most. */
export const BODY_SLICE_BYTES = 1024 * 1024;

/** What the sender needs of a response: Node's HTTP/1 response and HTTP/2's compatibility one. */
export interface SliceTarget {
  write(chunk: Uint8Array): boolean;
  end(chunk: Uint8Array): unknown;
  once(event: 'drain', listener: () => void): unknown;
  readonly destroyed?: boolean;
}

/**
 * Writes `bytes` to `res` and ends it, `slice` bytes at a time (views, no copies): the next slice
 * in a later turn, once the socket took the one before. Written whole, a body of megabytes is
 * copied into the socket in one turn as far as the kernel takes it (a 13 MB exposition: one
 * writev of 15 ms in a cluster worker, measured); a slow scraper's backpressure then holds the
 * rest here, unsent and uncopied. Stops when the response is destroyed.
 */
export function sendInSlices(res: SliceTarget, bytes: Uint8Array, slice = BODY_SLICE_BYTES): void {
  let at = 0;
  // Always from a later turn: a write that the socket completes at once emits its `drain` in a
  // process.nextTick of this turn, where the next slice would be written, and so the whole body.
  const later = (): void => void setImmediate(next);
  const next = (): void => {
    if (res.destroyed === true) return;
    const end = Math.min(at + slice, bytes.length);
    const chunk = bytes.subarray(at, end);
    at = end;
    if (at === bytes.length) res.end(chunk);
    else if (res.write(chunk)) later();
    else res.once('drain', later);
  };
  next();
}
