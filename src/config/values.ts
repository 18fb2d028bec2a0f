/** Parsers for single configuration values; each returns the value or what was expected. */

export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;

export type Parsed<T> = { value: T } | { error: string };

export function parseBoolean(text: string): Parsed<boolean> {
  const v = text.trim().toLowerCase();
  if (v === 'true') return { value: true };
  if (v === 'false') return { value: false };
  return { error: `expected true or false, got "${text}"` };
}

/**
 * The route's path: absolute, without query, fragment or white space, in printable ASCII (a
 * request target carries nothing else, and Koa's ctx.path is not percent-decoded, so `/metricsé`
 * could never be reached).
 */
export function parsePath(text: string): Parsed<string> {
  if (!/^\/[^\s?#]*$/.test(text)) {
    return { error: `expected an absolute path such as /metrics, got "${text}"` };
  }
  const outside = /[^\x21-\x7e]/u.exec(text);
  if (outside) {
    return {
      error: `expected a path of printable ASCII characters (a request cannot reach "${outside[0]}" unencoded), got "${text}"`,
    };
  }
  return { value: text };
}

export function parseIdentifier(text: string): Parsed<string> {
  if (!/^[A-Za-z_$][\w$]*$/.test(text)) {
    return { error: `expected a property name such as entityType, got "${text}"` };
  }
  return { value: text };
}

/** OTel's configuration patterns: exact, or with `*` (any run) and `?` (any one character). */
export function matchesGlob(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** A whole number from 0 up, exactly representable (a larger one would round, or be Infinity). */
export function parseCount(text: string): Parsed<number> {
  const v = text.trim();
  if (!/^\d+$/.test(v)) return { error: `expected a whole number from 0 up, got "${text}"` };
  const value = Number(v);
  if (!Number.isSafeInteger(value)) {
    const got = v.length > 32 ? `a number of ${v.length} digits` : `"${v}"`;
    return {
      error: `expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${got}`,
    };
  }
  return { value };
}

/**
 * The longest delay a Node timer takes: a longer one fires after 1 ms instead (with a
 * TimeoutOverflowWarning), so a timeout meant as "very long" would destroy every scrape at once
 * and an export interval would export every millisecond.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of milliseconds from `min` up to what a Node timer can wait. */
export function parseTimerMs(text: string, min: number): Parsed<number> {
  const v = text.trim();
  const value = Number(v);
  if (!/^\d+$/.test(v) || value < min || value > MAX_TIMER_MS) {
    const got = v.length > 32 ? `a number of ${v.length} digits` : `"${text}"`;
    return {
      error: `expected a whole number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${got}`,
    };
  }
  return { value };
}

/** `key1=value1,key2=value2`, values percent-decoded (OTEL_RESOURCE_ATTRIBUTES' format). */
export function parseKeyValueList(text: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (key === '') return { error: `expected key=value pairs separated by commas, got "${pair}"` };
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return { error: `invalid percent-encoding in the value of "${key}"` };
    }
  }
  return { value: out };
}

/** A TCP port, 1 to 65535. */
export function parsePort(text: string): Parsed<number> {
  const v = text.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
    return { error: `expected a port number from 1 to 65535, got "${text}"` };
  }
  return { value: Number(v) };
}
