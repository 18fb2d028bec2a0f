/**
 * Content negotiation of the metrics route, as client_golang's promhttp does it (expfmt's
 * NegotiateAccept with OpenMetrics on): the `Accept` header's media ranges by q-value, the first
 * one the package can write wins, else the Prometheus text format 0.0.4. Never an error: an
 * unknown, malformed or unacceptable header gets the text format. A wildcard (`*\/*`, which curl
 * and browsers send) also gets the text format, unchanged since before negotiation existed.
 */
import { ESCAPING_SCHEMES, type EscapingScheme } from './names';
import { PROMETHEUS_TEXT, type ExpositionFormat } from './format';

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
  /** Position in the header, to keep the order of equal ranges. */
  index: number;
}

/** Longest Accept header looked at: a scraper's is under 300 bytes; the rest is ignored. */
const MAX_ACCEPT = 4096;
const MAX_RANGES = 32;

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  const parts = header.slice(0, MAX_ACCEPT).split(',');
  for (let index = 0; index < parts.length && ranges.length < MAX_RANGES; index++) {
    const [mediaType, ...rawParams] = parts[index].split(';');
    const slash = mediaType.indexOf('/');
    if (slash < 0) continue;
    const type = mediaType.slice(0, slash).trim().toLowerCase();
    const subtype = mediaType
      .slice(slash + 1)
      .trim()
      .toLowerCase();
    if (type === '' || subtype === '') continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const raw of rawParams) {
      const eq = raw.indexOf('=');
      if (eq < 0) continue;
      const key = raw.slice(0, eq).trim().toLowerCase();
      const value = unquote(raw.slice(eq + 1).trim());
      if (key === 'q') {
        const parsed = Number(value);
        q = value !== '' && Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      } else params.set(key, value);
    }
    if (q > 0) ranges.push({ type, subtype, params, q, index });
  }
  // Highest q first; among equal q, the more specific, then the header's order.
  return ranges.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
}

function specificity(range: MediaRange): number {
  return (range.type === '*' ? 0 : 2) + (range.subtype === '*' ? 0 : 1);
}

function escaping(range: MediaRange): EscapingScheme | undefined {
  const value = range.params.get('escaping');
  return ESCAPING_SCHEMES.find((s) => s === value);
}

function openMetrics(version: string, scheme: EscapingScheme | undefined): ExpositionFormat {
  return {
    syntax: 'openmetrics',
    escaping: scheme ?? 'underscores',
    contentType: withEscaping(
      `application/openmetrics-text; version=${version}; charset=utf-8`,
      scheme,
    ),
  };
}

function withEscaping(contentType: string, scheme: EscapingScheme | undefined): string {
  return scheme === undefined ? contentType : `${contentType}; escaping=${scheme}`;
}

/** The format a media range asks for, if the package writes it. */
function formatFor(range: MediaRange): ExpositionFormat | undefined {
  const scheme = escaping(range);
  const version = range.params.get('version');
  if (range.type === 'application' && range.subtype === 'openmetrics-text') {
    // As expfmt: no version means the first one, 0.0.1 (the same text as 1.0.0).
    if (version === undefined || version === '0.0.1') return openMetrics('0.0.1', scheme);
    if (version === '1.0.0') return openMetrics('1.0.0', scheme);
    return undefined;
  }
  if (range.type === 'application' && range.subtype === '*') return openMetrics('1.0.0', scheme);
  if (
    (range.type === 'text' && (range.subtype === 'plain' || range.subtype === '*')) ||
    range.type === '*'
  ) {
    if (range.type === 'text' && range.subtype === 'plain' && version === '1.0.0') {
      // Text 1.0.0 is the text format with UTF-8 names allowed where escaping says so.
      const s = scheme ?? 'underscores';
      return {
        syntax: 'prometheus',
        escaping: s,
        contentType: withEscaping('text/plain; version=1.0.0; charset=utf-8', scheme),
      };
    }
    if (version !== undefined && version !== '0.0.4' && range.subtype === 'plain') return undefined;
    // 0.0.4 cannot quote names: allow-utf-8 falls back to the legacy names.
    if (scheme === undefined || scheme === 'allow-utf-8') return PROMETHEUS_TEXT;
    return {
      syntax: 'prometheus',
      escaping: scheme,
      contentType: withEscaping(PROMETHEUS_TEXT.contentType, scheme),
    };
  }
  return undefined;
}

/** The format to answer a request whose `Accept` header is `accept` (undefined: none sent). */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return PROMETHEUS_TEXT;
  for (const range of parseAccept(accept)) {
    const format = formatFor(range);
    if (format !== undefined) return format;
  }
  return PROMETHEUS_TEXT;
}

/** A content coding the package can apply to the body. */
export type ContentCoding = 'gzip' | 'zstd' | 'identity';

/**
 * The coding to answer with for `acceptEncoding`, among `offered` (in the package's order of
 * preference among equal q-values); `identity` when the client asked for none of them, or for
 * none at all. An `identity;q=0` with nothing else acceptable still gets identity: an answer the
 * scraper can read beats a 406 it cannot.
 */
export function negotiateEncoding(
  acceptEncoding: string | undefined,
  offered: readonly ContentCoding[],
): ContentCoding {
  if (acceptEncoding === undefined || acceptEncoding === '') return 'identity';
  const qs = new Map<string, number>();
  for (const part of acceptEncoding.slice(0, MAX_ACCEPT).split(',', MAX_RANGES)) {
    const [name, ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') {
        const parsed = Number(v?.trim());
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    qs.set(coding === 'x-gzip' ? 'gzip' : coding, q);
  }
  let best: ContentCoding = 'identity';
  let bestQ = 0;
  for (const coding of offered) {
    const q = qs.get(coding) ?? (coding === 'identity' ? 0 : (qs.get('*') ?? 0));
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
