import { createHash, timingSafeEqual } from 'node:crypto';

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

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The tokens that open the metrics route. Candidates are compared as SHA-256 digests with
 * `timingSafeEqual`, against every token without stopping early, so the time taken depends on
 * neither the value nor the length of what a client sent. The tokens themselves are not kept.
 */
export class TokenSet {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[] = []) {
    this.digests = tokens.filter((t) => t.length > 0).map(digest);
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
