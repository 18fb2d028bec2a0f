// What a bearer token may be, and how a setting or a token file lists several.
import { maxHeaderSize } from 'node:http';

/** Printable ASCII without white space: what a bearer token can carry, byte for byte. */
export function isTokenText(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/**
 * The longest token an `Authorization: Bearer <token>` header can carry: Node refuses a request
 * whose header block exceeds its limit (16 KiB, or --max-http-header-size), and a scraper's
 * request line, Host, User-Agent and Accept headers take some of it.
 */
export const MAX_TOKEN_LENGTH = maxHeaderSize - 1024;

/** Below this length a token is easy to guess; a warning says so (never the token). */
export const MIN_TOKEN_LENGTH = 16;

/** How many of `tokens` are shorter than MIN_TOKEN_LENGTH. */
export function shortTokens(tokens: readonly string[]): number {
  return tokens.filter((t) => t.length < MIN_TOKEN_LENGTH).length;
}

/** The warning about short tokens from `source` (a variable name), or undefined if none is. */
export function shortTokenWarning(source: string, tokens: readonly string[]): string | undefined {
  const short = shortTokens(tokens);
  if (short === 0) return undefined;
  return `${source}: tokens shorter than ${MIN_TOKEN_LENGTH} characters are easy to guess (${short} of ${tokens.length} are); use at least ${MIN_TOKEN_LENGTH} random characters (commas separate tokens)`;
}

export const TOO_LONG = `a token is longer than an Authorization header can carry within Node's header limit (${maxHeaderSize} bytes, --max-http-header-size)`;

/**
 * Tokens separated by commas or new lines; surrounding white space is trimmed and empty entries
 * are ignored. A bearer credential has no white space, so a token with some could never match.
 * The error never quotes a token.
 */
export function parseTokens(text: string): { value: string[] } | { error: string } {
  const tokens = text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (tokens.some((t) => /\s/.test(t))) {
    return { error: 'expected tokens without white space, separated by commas or new lines' };
  }
  if (tokens.some((t) => !isTokenText(t))) {
    return { error: 'expected tokens of printable ASCII characters (RFC 6750 bearer tokens)' };
  }
  if (tokens.some((t) => t.length > MAX_TOKEN_LENGTH)) return { error: TOO_LONG };
  if (tokens.length === 0) return { error: 'expected at least one token, found none' };
  return { value: tokens };
}
