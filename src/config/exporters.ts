// OTEL_METRICS_EXPORTER and the OTLP exporter's variables, and how they combine with the
// file's readers. Each problem names the variable and what was expected, never a header's value.
import {
  DEFAULT_EXPORT_INTERVAL_MS,
  DEFAULT_EXPORT_TIMEOUT_MS,
  DEFAULT_OTLP,
  type Compression,
  type OtlpProtocol,
  type OtlpSettings,
  type PushReaderSettings,
  type TemporalityPreference,
} from '../export/settings';
import { parseTimerMs, type Parsed } from './values';

export const EXPORTER_KINDS = ['prometheus', 'otlp', 'console', 'none'] as const;
export type ExporterKind = (typeof EXPORTER_KINDS)[number];

/** The readers one source (environment or file) asks for. */
export interface ExportSettings {
  /** Serve the metrics route (the `prometheus` exporter, a `pull` reader). */
  prometheus: boolean;
  push: PushReaderSettings[];
}

/** What the environment says; absent fields leave the file's or the defaults. */
export interface ExportEnv {
  kinds?: ExporterKind[];
  otlp: Partial<OtlpSettings>;
  intervalMs?: number;
  timeoutMs?: number;
}

export function parseExporterKinds(text: string): Parsed<ExporterKind[]> {
  const kinds = text
    .split(',')
    .map((k) => k.trim().toLowerCase())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(EXPORTER_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    return {
      error: `expected a comma-separated list of ${EXPORTER_KINDS.join(', ')}, got "${text}"`,
    };
  }
  if (kinds.includes('none') && kinds.length > 1) {
    return { error: `expected none alone or a list without none, got "${text}"` };
  }
  return { value: [...new Set(kinds)] as ExporterKind[] };
}

export function parseEndpoint(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // Not quoted: an endpoint can carry credentials.
    return { error: 'expected an http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: `expected an http:// or https:// URL, got a ${url.protocol} URL` };
  }
  return { value: url.toString() };
}

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is a base: the metrics path is appended. */
export function metricsEndpoint(base: string): string {
  return base.endsWith('/') ? `${base}v1/metrics` : `${base}/v1/metrics`;
}

export function parseProtocol(text: string): Parsed<OtlpProtocol> {
  const v = text.trim().toLowerCase();
  if (v === 'http/protobuf' || v === 'http/json') return { value: v };
  if (v === 'grpc') {
    return { error: 'grpc is not supported; expected http/protobuf or http/json' };
  }
  return { error: `expected http/protobuf or http/json, got "${text}"` };
}

/** `key=value,key2=value2`, values percent-decoded; the error never quotes a value. */
export function parseHeaders(text: string): Parsed<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { error: 'expected name=value pairs separated by commas, with header names' };
    }
    try {
      headers[name] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return { error: `invalid percent-encoding in the value of "${name}"` };
    }
  }
  return { value: headers };
}

export function parseCompression(text: string): Parsed<Compression> {
  const v = text.trim().toLowerCase();
  if (v === 'gzip' || v === 'none') return { value: v };
  return { error: `expected gzip or none, got "${text}"` };
}

/** The environment spells it `lowmemory`, the file `low_memory`: both are read. */
export function parseTemporality(text: string): Parsed<TemporalityPreference> {
  const v = text.trim().toLowerCase();
  if (v === 'cumulative' || v === 'delta') return { value: v };
  if (v === 'lowmemory' || v === 'low_memory') return { value: 'low_memory' };
  return { error: `expected cumulative, delta or lowmemory, got "${text}"` };
}

/** Milliseconds, a whole number from 1 up to what a Node timer can wait. */
export function parseMillis(text: string): Parsed<number> {
  return parseTimerMs(text, 1);
}

type Read = <T>(name: string, parse: (text: string) => Parsed<T>, use: (v: T) => void) => void;

/** Reads the exporter variables with `read` (env.ts's reader: unset and empty are skipped). */
export function readExportEnv(read: Read, problems: string[]): ExportEnv {
  const out: ExportEnv = { otlp: {} };
  read('OTEL_METRICS_EXPORTER', parseExporterKinds, (v) => (out.kinds = v));
  // The metrics-specific variable wins over the general one.
  const both = <T>(suffix: string, parse: (t: string) => Parsed<T>, use: (v: T) => void): void => {
    let set = false;
    read(`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, parse, (v) => {
      use(v);
      set = true;
    });
    if (!set) read(`OTEL_EXPORTER_OTLP_${suffix}`, parse, use);
  };
  let specific = false;
  read('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', parseEndpoint, (v) => {
    out.otlp.endpoint = v;
    specific = true;
  });
  if (!specific) {
    read(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      parseEndpoint,
      (v) => (out.otlp.endpoint = metricsEndpoint(v)),
    );
  }
  both('PROTOCOL', parseProtocol, (v) => (out.otlp.protocol = v));
  // Headers add up: the general ones, then the metrics-specific ones over them.
  const headers: Record<string, string> = {};
  read('OTEL_EXPORTER_OTLP_HEADERS', parseHeaders, (v) => Object.assign(headers, v));
  read('OTEL_EXPORTER_OTLP_METRICS_HEADERS', parseHeaders, (v) => Object.assign(headers, v));
  if (Object.keys(headers).length > 0) out.otlp.headers = headers;
  both('TIMEOUT', parseMillis, (v) => (out.otlp.timeoutMs = v));
  both('COMPRESSION', parseCompression, (v) => (out.otlp.compression = v));
  read(
    'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    parseTemporality,
    (v) => (out.otlp.temporality = v),
  );
  read('OTEL_METRIC_EXPORT_INTERVAL', parseMillis, (v) => (out.intervalMs = v));
  read('OTEL_METRIC_EXPORT_TIMEOUT', parseMillis, (v) => (out.timeoutMs = v));
  void problems;
  return out;
}

/**
 * The readers in force: OTEL_METRICS_EXPORTER, if set, chooses them; else the file's readers;
 * else the route alone. The environment's OTLP values win over the file's.
 */
export function resolveExports(env: ExportEnv, file: ExportSettings | undefined): ExportSettings {
  const fromFile = file ?? { prometheus: true, push: [] };
  const overlay = (reader: PushReaderSettings): PushReaderSettings => ({
    ...reader,
    intervalMs: env.intervalMs ?? reader.intervalMs,
    timeoutMs: env.timeoutMs ?? reader.timeoutMs,
    otlp: reader.exporter === 'otlp' ? { ...DEFAULT_OTLP, ...reader.otlp, ...env.otlp } : undefined,
  });
  if (env.kinds === undefined)
    return { prometheus: fromFile.prometheus, push: fromFile.push.map(overlay) };
  const push: PushReaderSettings[] = [];
  for (const kind of ['otlp', 'console'] as const) {
    if (!env.kinds.includes(kind)) continue;
    const configured = fromFile.push.find((r) => r.exporter === kind);
    push.push(
      overlay(
        configured ?? {
          exporter: kind,
          intervalMs: DEFAULT_EXPORT_INTERVAL_MS,
          timeoutMs: DEFAULT_EXPORT_TIMEOUT_MS,
        },
      ),
    );
  }
  // `none` alone is what a host's own OTel SDK is told to stop exporting metrics; it switches
  // off the package's pushes, not its route, which the token governs.
  const noneAlone = env.kinds.length > 0 && env.kinds.every((kind) => kind === 'none');
  return { prometheus: noneAlone || env.kinds.includes('prometheus'), push };
}
