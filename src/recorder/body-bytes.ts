// Counts the body bytes a request delivered and a response sent, streamed bodies included.
import { IncomingMessage, ServerResponse } from 'node:http';

/** Where the counts of one request go. */
export interface BodyBytes {
  /** Body bytes Node's parser handed to the request stream so far. */
  received: number;
  /** Body bytes the response accepted for sending so far. */
  sent: number;
  /** Set while `end` runs: HTTP/2's `end(chunk)` writes its chunk through `write`. */
  ending?: boolean;
}

/** The counts of the request a stream belongs to, when the package records that request. */
const COUNTS = Symbol('scanopy-metrics.bodyBytes');

type Counted = { [COUNTS]?: BodyBytes };
type Push = (this: Counted, chunk: unknown, encoding?: unknown) => boolean;
type Write = (this: Counted, chunk?: unknown, encoding?: unknown, callback?: unknown) => unknown;
type Closable = { destroyed?: boolean; writableEnded?: boolean };

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    const known = typeof encoding === 'string' && Buffer.isEncoding(encoding);
    return Buffer.byteLength(chunk, known ? encoding : 'utf8');
  }
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/** The counting functions this module made, to tell them from the originals. */
const counting = new WeakSet<object>();

function countingPush(push: Push): Push {
  const counted: Push = function countedPush(chunk, encoding) {
    // The chunk first: the end of every request's body, push(null), then needs no lookup of a
    // symbol that a bodyless request does not carry (a miss walks the prototype chain).
    if (chunk !== null && chunk !== undefined) {
      const counts = this[COUNTS];
      if (counts !== undefined) counts.received += byteLength(chunk, encoding);
    }
    return push.call(this, chunk, encoding);
  };
  counting.add(counted);
  return counted;
}

/** A write after the response ended or its connection was destroyed sends nothing. */
function sends(res: Counted & Closable): boolean {
  return res.destroyed !== true && res.writableEnded !== true;
}

function countingWrite(write: Write): Write {
  const counted: Write = function countedWrite(chunk, encoding, callback) {
    const counts = this[COUNTS];
    if (counts !== undefined && counts.ending !== true && sends(this)) {
      counts.sent += byteLength(chunk, encoding);
    }
    return write.call(this, chunk, encoding, callback);
  };
  counting.add(counted);
  return counted;
}

function countingEnd(end: Write): Write {
  const counted: Write = function countedEnd(chunk, encoding, callback) {
    const counts = this[COUNTS];
    if (counts === undefined) return end.call(this, chunk, encoding, callback);
    // end(callback) carries no data.
    if (sends(this) && typeof chunk !== 'function') counts.sent += byteLength(chunk, encoding);
    counts.ending = true;
    try {
      return end.call(this, chunk, encoding, callback);
    } finally {
      counts.ending = false;
    }
  };
  counting.add(counted);
  return counted;
}

const installedOn = new WeakSet<object>();
/** The counting functions on Node's HTTP/1 prototypes, once installed. */
let http1Push: Push | undefined;
let http1Write: Write | undefined;
let http1End: Write | undefined;

/**
 * Puts the counting `push` on the prototypes of requests and the counting `write` and `end` on
 * those of responses, once each. Each counts only for a request the package records (one that
 * carries its counts); for any other it is a plain call through.
 */
export function installBodyCountingOn(
  requests: readonly object[],
  responses: readonly object[],
): void {
  for (const proto of requests) {
    if (installedOn.has(proto)) continue;
    installedOn.add(proto);
    const target = proto as { push: Push };
    target.push = countingPush(target.push);
  }
  for (const proto of responses) {
    if (installedOn.has(proto)) continue;
    installedOn.add(proto);
    const target = proto as { write: Write; end: Write };
    target.write = countingWrite(target.write);
    target.end = countingEnd(target.end);
  }
}

/**
 * The counting functions on Node's own server requests and responses (HTTP/1), once per process,
 * when the first recording middleware is made. On the prototypes rather than on each request:
 * wrapping each request's `push`, `write` and `end` cost the hot path three closures and three
 * property writes per request, about as much as all the rest of the recording.
 */
export function installBodyCounting(): void {
  installBodyCountingOn([IncomingMessage.prototype], [ServerResponse.prototype]);
  const request = IncomingMessage.prototype as unknown as { push: Push };
  const response = ServerResponse.prototype as unknown as { write: Write; end: Write };
  http1Push = request.push;
  http1Write = response.write;
  http1End = response.end;
}

let http2Installed = false;

/**
 * HTTP/2's compatibility classes get the counting functions too, at the first HTTP/2 request
 * recorded: node:http2 is loaded by then (the service serves with it), whereas loading it at
 * start would cost every service that never does about 17 ms.
 */
function installHttp2BodyCounting(req: object): void {
  if (http2Installed || (req as { httpVersionMajor?: unknown }).httpVersionMajor !== 2) return;
  http2Installed = true;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded already, see above */
  const { Http2ServerRequest, Http2ServerResponse } =
    require('node:http2') as typeof import('node:http2');
  /* eslint-enable @typescript-eslint/no-require-imports */
  installBodyCountingOn([Http2ServerRequest.prototype], [Http2ServerResponse.prototype]);
}

/**
 * Counts the request body as Node delivers it, without reading it: Node's HTTP/1 parser and the
 * HTTP/2 compatibility layer both hand each body chunk (de-chunked, before any decoding) to the
 * request stream's `push`. The body stays where it is, for whoever reads it, whenever. The
 * socket's `bytesRead` would not do: it counts headers too, and on a keep-alive or pipelined
 * connection the bytes of the next requests; an HTTP/2 socket carries many streams at once.
 * A request of another class (not Node's) gets the counting `push` on itself.
 */
export function countRequestBody(req: object, counts: BodyBytes): void {
  const target = req as Counted & { push: Push };
  // The usual case first, without a WeakSet lookup: Node's HTTP/1 request, counted on its prototype.
  if (target.push !== http1Push && !counting.has(target.push)) {
    installHttp2BodyCounting(req);
    if (!counting.has(target.push)) target.push = countingPush(target.push);
  }
  target[COUNTS] = counts;
}

/**
 * Counts the response body as it is written, through `write` and `end`: Koa's `res.end(body)`,
 * a piped stream's writes, compression middleware's output (the compressed bytes, as sent)
 * alike. Chunked framing and headers are not body bytes; a write after the response ended or its
 * connection was destroyed sends nothing and counts nothing. The socket's `bytesWritten` would
 * count headers and framing, the responses of other requests on a keep-alive connection, and
 * every stream of an HTTP/2 session. A response of another class gets the counting functions on
 * itself.
 */
export function countResponseBody(res: object, counts: BodyBytes): void {
  const target = res as Counted & { write: Write; end: Write };
  if (target.write !== http1Write && !counting.has(target.write)) {
    target.write = countingWrite(target.write);
  }
  if (target.end !== http1End && !counting.has(target.end)) target.end = countingEnd(target.end);
  target[COUNTS] = counts;
}

/**
 * Whether the response could carry a body at all: Node discards what is written for a HEAD
 * request and for a 1xx, 204 or 304 status (RFC 9110), so none of it was sent.
 */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && (status < 100 || status >= 200);
}
