// Counts the body bytes a request delivered and a response sent, streamed bodies included.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** Where the counts of one request go. */
export interface BodyBytes {
  /** Body bytes Node's parser handed to the request stream so far. */
  received: number;
  /** Body bytes the response accepted for sending so far. */
  sent: number;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;
type Push = (chunk: unknown, encoding?: BufferEncoding) => boolean;
type Write = (chunk?: unknown, encoding?: unknown, callback?: unknown) => unknown;

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/**
 * Counts the request body as Node delivers it, without reading it: Node's HTTP/1 parser and the
 * HTTP/2 compatibility layer both hand each body chunk (de-chunked, before any decoding) to the
 * request stream's `push`, which is wrapped on this one request. The body stays where it is, for
 * whoever reads it, whenever. The socket's `bytesRead` would not do: it counts headers too, and on
 * a keep-alive or pipelined connection the bytes of the next requests; an HTTP/2 socket carries
 * many streams at once.
 */
export function countRequestBody(req: Request, counts: BodyBytes): void {
  const push = (req as unknown as { push: Push }).push;
  (req as unknown as { push: Push }).push = function countedPush(
    this: Request,
    chunk: unknown,
    encoding?: BufferEncoding,
  ): boolean {
    if (chunk !== null && chunk !== undefined) counts.received += byteLength(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
}

/**
 * Counts the response body as it is written, through `write` and `end` wrapped on this one
 * response: Koa's `res.end(body)`, a piped stream's writes, compression middleware's output (the
 * compressed bytes, as sent) alike. Chunked framing and headers are not body bytes; a write after
 * the response ended or its connection was destroyed sends nothing and counts nothing. The
 * socket's `bytesWritten` would count headers and framing, the responses of other requests on a
 * keep-alive connection, and every stream of an HTTP/2 session.
 */
export function countResponseBody(res: Response, counts: BodyBytes): void {
  const target = res as unknown as { write: Write; end: Write };
  const write = target.write;
  const end = target.end;
  target.write = function countedWrite(this: Response, chunk, encoding, callback): unknown {
    if (!this.destroyed && !this.writableEnded) counts.sent += byteLength(chunk, encoding);
    return write.call(this, chunk, encoding, callback);
  };
  target.end = function countedEnd(this: Response, chunk, encoding, callback): unknown {
    // end(callback) carries no data.
    if (!this.destroyed && !this.writableEnded && typeof chunk !== 'function') {
      counts.sent += byteLength(chunk, encoding);
    }
    return end.call(this, chunk, encoding, callback);
  };
}

/**
 * Whether the response could carry a body at all: Node discards what is written for a HEAD
 * request and for a 1xx, 204 or 304 status (RFC 9110), so none of it was sent.
 */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && (status < 100 || status >= 200);
}
