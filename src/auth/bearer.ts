// The Authorization header's bearer credential, and the set of accepted tokens it is compared with.
import { createHash, timingSafeEqual } from 'node:crypto';
import { MAX_TOKEN_LENGTH, TOO_LONG, isTokenText } from './token-text';

/**
 * The credential of an `Authorization: Bearer <token>` header (RFC 6750): the scheme is
 * case-insensitive (RFC 7235), one or more spaces follow it, and the token has no white space.
 * Anything else is no bearer credential at all.
 */
export function bearerCredential(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^bearer +(\S+)$/i.exec(header);
  return match?.[1];
}

/**
 * The values of every `Authorization` header of a request, from its raw headers: the same over
 * HTTP/1.x (IncomingMessage) and HTTP/2 (Http2ServerRequest, which has no `headersDistinct`).
 */
export function authorizationHeaders(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization')
      values.push(rawHeaders[i + 1]);
  }
  return values;
}

/** Header values reach Node as latin1 text: hashing them as latin1 hashes the bytes sent. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'latin1').digest();
}

/**
 * The tokens that open the metrics route. Candidates are compared as SHA-256 digests with
 * `timingSafeEqual`, against every token without stopping early, so the time taken depends on
 * neither the value nor the length of what a client sent. The tokens themselves are not kept.
 */
export class TokenSet {
  private readonly digests: readonly Buffer[];

  /** Throws for a token that no `Authorization` header could carry (never quoting it). */
  constructor(tokens: readonly string[] = []) {
    const given = tokens.filter((t) => t.length > 0);
    if (!given.every(isTokenText)) {
      throw new TypeError('a bearer token must be printable ASCII without white space (RFC 6750)');
    }
    if (given.some((t) => t.length > MAX_TOKEN_LENGTH)) throw new TypeError(TOO_LONG);
    this.digests = given.map(digest);
  }

  /** No token configured: the route is disabled. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  get size(): number {
    return this.digests.length;
  }

  matches(candidate: string): boolean {
    const d = digest(candidate);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}
