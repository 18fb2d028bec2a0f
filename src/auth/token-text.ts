// What a bearer token may be, and how a setting or a token file lists several.

/** Printable ASCII without white space: what a bearer token can carry, byte for byte. */
export function isTokenText(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

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
  if (tokens.length === 0) return { error: 'expected at least one token, found none' };
  return { value: tokens };
}
