// The address of the client at the other end of a request's connection, read without writing to it.

/** What is read of a connection: Node's `net.Socket`, a TLS socket, HTTP/2's socket proxy. */
export interface PeerSocket {
  readonly remoteAddress?: string;
  readonly _handle?: { getpeername?: (out: { address?: unknown }) => number } | null;
}

/**
 * The peer's address, as `socket.remoteAddress` gives it, but asked of the socket's handle the
 * way that getter does, without its caching: `remoteAddress` stores what it read on the socket
 * (`_peername`), so that on a service whose code never reads it the scraper's connection alone
 * has that property. V8 then meets a socket shape it had not seen, throws away the optimised
 * code of Node's HTTP functions that handle it (23 of the 42 functions a 401 of the route
 * deoptimized), and does so again when that shape dies in a full collection. A socket whose
 * handle cannot say (closed, a pipe) is asked the public way; one that throws (an HTTP/2 socket
 * of a closed session) gives `unknown`.
 */
export function peerAddress(socket: PeerSocket | undefined): string {
  try {
    const handle = socket?._handle;
    if (handle != null && typeof handle.getpeername === 'function') {
      const out: { address?: unknown } = {};
      if (handle.getpeername(out) === 0 && typeof out.address === 'string') return out.address;
    }
    return socket?.remoteAddress ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
