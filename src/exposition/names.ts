/**
 * Metric and label names as a scraper accepts them. Prometheus (before 3.0, and any scraper that
 * did not ask for UTF-8 names) accepts only the legacy charset: `[a-zA-Z_:][a-zA-Z0-9_:]*` for
 * metric names, `[a-zA-Z_][a-zA-Z0-9_]*` for label names; one name outside it (a resource
 * attribute `0digit`, `service.name` written as is) makes it reject the whole scrape. A scraper
 * that negotiated `escaping=allow-utf-8` gets the names as they are, quoted where needed.
 */

/** The `escaping` parameter of a negotiated format (Prometheus's UTF-8 escaping schemes). */
export type EscapingScheme = 'underscores' | 'allow-utf-8' | 'dots' | 'values';

export const ESCAPING_SCHEMES: readonly EscapingScheme[] = [
  'underscores',
  'allow-utf-8',
  'dots',
  'values',
];

const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}

export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

/**
 * OTel's Prometheus sanitizing (as OTel JS's PrometheusSerializer does it): every character
 * outside `[a-zA-Z0-9_]` becomes `_`, runs of `_` become one, and (unlike PrometheusSerializer for
 * label names, which lets `0digit` through and breaks the scrape) a leading digit gets a `_`
 * prefix. The result is never empty for a non-empty name.
 */
export function sanitize(name: string): string {
  const s = name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
  return s.length > 0 && s[0] >= '0' && s[0] <= '9' ? `_${s}` : s;
}

/** Prometheus's `dots` scheme: `.` → `_dot_`, `_` → `__`, other invalid characters → `__`. */
function escapeDots(name: string, label: boolean): string {
  let out = '';
  let i = 0;
  for (const c of name) {
    if (c === '_') out += '__';
    else if (c === '.') out += '_dot_';
    else if (validRune(c, i, label)) out += c;
    else out += '__';
    i++;
  }
  return out;
}

/** Prometheus's `values` scheme: `U__` then `_` → `__`, invalid characters → `_<hex code point>_`. */
function escapeValues(name: string, label: boolean): string {
  if (label ? isLegacyLabelName(name) : isLegacyMetricName(name)) return name;
  let out = 'U__';
  let i = 0;
  for (const c of name) {
    if (c === '_') out += '__';
    else if (validRune(c, i, label)) out += c;
    else out += `_${(c.codePointAt(0) ?? 0xfffd).toString(16)}_`;
    i++;
  }
  return out;
}

function validRune(c: string, i: number, label: boolean): boolean {
  return (
    (c >= 'a' && c <= 'z') ||
    (c >= 'A' && c <= 'Z') ||
    c === '_' ||
    (!label && c === ':') ||
    (c >= '0' && c <= '9' && i > 0)
  );
}

/**
 * A label name as written for `scheme`: legacy names as they are; other names sanitized, escaped,
 * or (allow-utf-8) kept, to be quoted by `writeName`.
 */
export function labelName(name: string, scheme: EscapingScheme): string {
  // OTel's sanitizing also folds runs of `_` in names that are already legal (`a__b` → `a_b`).
  if (scheme === 'underscores') return sanitize(name);
  if (isLegacyLabelName(name)) return name;
  switch (scheme) {
    case 'allow-utf-8':
      return name;
    case 'dots':
      return escapeDots(name, true);
    default:
      return escapeValues(name, true);
  }
}

/** A metric name as written for `scheme` (the `_total` suffix is added afterwards). */
export function metricName(name: string, scheme: EscapingScheme): string {
  // As PrometheusSerializer: escaped for HELP first, so a new line becomes `_n`, not `_`.
  if (scheme === 'underscores') return sanitize(name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'));
  if (isLegacyMetricName(name)) return name;
  switch (scheme) {
    case 'allow-utf-8':
      return name;
    case 'dots':
      return escapeDots(name, false);
    default:
      return escapeValues(name, false);
  }
}

/** `name` as it stands in the text: as it is when legacy, else quoted (allow-utf-8 only). */
export function quotedIfNeeded(name: string, label: boolean): string {
  const legacy = label ? isLegacyLabelName(name) : isLegacyMetricName(name);
  return legacy ? name : `"${escapeLabelValue(name)}"`;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * The Prometheus unit word of an OTel (UCUM) unit, per OTel's Prometheus compatibility
 * specification: `s` → `seconds`, `By` → `bytes`, `m/s` → `meters_per_second`; annotations in
 * braces are dropped (`{request}` → none).
 */
export function unitWord(unit: string | undefined): string {
  if (unit === undefined) return '';
  const clean = unit.replace(/\{[^}]*\}/g, '').trim();
  if (clean === '') return '';
  if (clean === '1') return 'ratio';
  const [per, over] = clean.split('/', 2);
  const word = (u: string): string => UNIT_WORDS[u] ?? sanitize(u).replace(/^_+|_+$/g, '');
  const first = per === '' ? '' : word(per);
  if (over === undefined) return first;
  const second = PER_WORDS[over] ?? word(over);
  return second === '' ? first : `${first}${first === '' ? '' : '_'}per_${second}`;
}

const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  kBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

const PER_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  min: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};
