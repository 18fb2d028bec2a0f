// Reads otel-config.yaml: parse, substitute ${VAR}, validate against the schema, map to settings.
import { LineCounter, parseDocument, visit, isMap, isScalar, isSeq, Scalar, parse } from 'yaml';
import { MiB, readRegularFileSync } from '../files/regular-file';
import { METRIC_INSTRUMENTS, METRIC_NAMES } from '../collection/instruments';
import { PACKAGE_NAME } from '../version';
import { readWithout, SCOPE_INFO, TARGET_INFO } from './exporter-keys';
import { FILE } from './file-schema';
import { validate } from './schema';
import { isSecretName } from './redact';
import { substitute } from './substitute';
import type { LogLevel, PartialSettings } from './types';
import { parseIdentifier, parseKeyValueList, parsePath } from './values';
import { readViews, type RawView } from './views';
import { parseEndpoint, parseHeaders, type ExportSettings } from './exporters';
import {
  DEFAULT_EXPORT_INTERVAL_MS,
  DEFAULT_EXPORT_TIMEOUT_MS,
  DEFAULT_OTLP,
  type PushReaderSettings,
  type TemporalityPreference,
} from '../export/settings';

/** What YAML makes of a substituted plain value, if that is a scalar; else the text itself. */
function typedScalar(text: string): unknown {
  try {
    const typed: unknown = parse(text);
    return isScalar(typed) || typeof typed !== 'object' ? typed : text;
  } catch {
    // `@team`, `*x`, `[beta`: not YAML on their own, and fine as strings.
    return text;
  }
}

/** A configuration file is small; a larger one is refused rather than parsed. */
export const CONFIG_FILE_MAX_BYTES = MiB;

/**
 * Every `__proto__` key, by its path: once the YAML is plain JavaScript such a key is at best
 * confusing (`obj.__proto__` is the prototype accessor) and at worst changes what is read.
 */
function protoKeys(node: unknown, path: string, out: string[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const at = path ? `${path}.${key}` : key;
      if (key === '__proto__') out.push(`${at}: a key named __proto__ is not allowed`);
      protoKeys(pair.value, at, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => protoKeys(item, `${path}[${i}]`, out));
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'boolean') return 'true or false';
  return `a ${typeof value}`;
}

/**
 * Parses YAML and substitutes `${VAR:-default}` in scalar values, never in keys. `secrets` are the
 * values substituted from secret-looking variables, which no message may quote.
 */
function parseWithSubstitution(
  text: string,
  env: Record<string, string | undefined>,
): { data: unknown; problems: string[]; secrets: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = ` (line ${lines.linePos(e.pos[0]).line})`;
    return {
      data: undefined,
      problems: [`invalid YAML${line}: ${e.message.split('\n')[0]}`],
      secrets: [],
    };
  }
  const problems: string[] = [];
  protoKeys(doc.contents, '', problems);
  if (problems.length > 0) return { data: undefined, problems, secrets: [] };
  const secrets: string[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = substitute(node.value, env);
      if ('error' in result) {
        problems.push(result.error);
        return;
      }
      for (const name of result.names) {
        const value = env[name];
        if (isSecretName(name) && value !== undefined && value !== '') secrets.push(value);
      }
      // A plain scalar takes the type of what was substituted (`${X:-false}` is a boolean);
      // a quoted one stays a string.
      if (node.type === Scalar.PLAIN) {
        node.value = typedScalar(result.value);
      } else {
        node.value = result.value;
      }
    },
  });
  return { data: doc.toJS(), problems, secrets };
}

interface RawFile {
  disabled?: boolean;
  log_level?: LogLevel;
  resource?: {
    attributes?: { name: string; value?: unknown }[];
    attributes_list?: string;
  };
  meter_provider?: {
    readers?: {
      pull?: {
        exporter: {
          /** Booleans under the names in exporter-keys.ts, and the listener's host and port. */
          'prometheus/development'?: Record<string, boolean | string | number | undefined>;
        };
        cardinality_limits?: Record<string, number>;
      };
      periodic?: RawPeriodic;
    }[];
    views?: RawView[];
  };
  'instrumentation/development'?: {
    js?: Record<
      string,
      {
        path?: string;
        entity_type_key?: string;
        auth_failures_per_minute?: number;
        max_concurrent_scrapes?: number;
        scrape_timeout_ms?: number;
        duration_entity_type?: boolean;
        enabled_instrumentations?: string[];
        events?: {
          entities?: string[];
          operations?: string[];
          max_new_entities?: number;
          max_new_operations?: number;
        };
      }
    >;
  };
}

interface RawPeriodic {
  interval?: number;
  timeout?: number;
  exporter: {
    otlp_http?: {
      endpoint?: string;
      headers?: { name: string; value?: string }[];
      headers_list?: string;
      compression?: 'gzip' | 'none';
      timeout?: number;
      encoding?: 'protobuf' | 'json';
      temporality_preference?: TemporalityPreference;
    };
    console?: null | Record<string, never>;
  };
}

/** The file's `periodic` readers, each checked as strictly as the environment's variables. */
function readPeriodic(raw: RawPeriodic, at: string, problems: string[]): PushReaderSettings[] {
  const base = {
    intervalMs: raw.interval ?? DEFAULT_EXPORT_INTERVAL_MS,
    timeoutMs: raw.timeout ?? DEFAULT_EXPORT_TIMEOUT_MS,
  };
  const readers: PushReaderSettings[] = [];
  const otlp = raw.exporter.otlp_http;
  if (otlp) {
    const settings = { ...DEFAULT_OTLP, headers: {} as Record<string, string> };
    if (otlp.endpoint !== undefined) {
      const endpoint = parseEndpoint(otlp.endpoint);
      if ('error' in endpoint) problems.push(`${at}.otlp_http.endpoint: ${endpoint.error}`);
      else settings.endpoint = endpoint.value;
    }
    if (otlp.headers_list !== undefined) {
      const list = parseHeaders(otlp.headers_list);
      if ('error' in list) problems.push(`${at}.otlp_http.headers_list: ${list.error}`);
      else Object.assign(settings.headers, list.value);
    }
    for (const { name, value } of otlp.headers ?? []) settings.headers[name] = value ?? '';
    if (otlp.compression !== undefined) settings.compression = otlp.compression;
    if (otlp.timeout !== undefined) settings.timeoutMs = otlp.timeout;
    if (otlp.encoding === 'json') settings.protocol = 'http/json';
    if (otlp.temporality_preference !== undefined) {
      settings.temporality = otlp.temporality_preference;
    }
    readers.push({ ...base, exporter: 'otlp', otlp: settings });
  }
  if (raw.exporter.console !== undefined) readers.push({ ...base, exporter: 'console' });
  return readers;
}

/**
 * Reads an OTel declarative configuration file. Problems are returned, each prefixed with the
 * file's name and the key's path; nothing is thrown for a bad file.
 */
export function readConfigFile(
  file: string,
  env: Record<string, string | undefined>,
  variable?: string,
): {
  settings: PartialSettings & { fileExports?: ExportSettings };
  problems: string[];
  secrets: string[];
} {
  // Only a regular file of at most 1 MiB: a FIFO, a device or a huge file never blocks start-up.
  const read = readRegularFileSync(file, CONFIG_FILE_MAX_BYTES);
  if ('error' in read) {
    const where = variable ? `${variable}: ${file}` : file;
    return { settings: {}, problems: [`${where}: ${read.error}`], secrets: [] };
  }
  const parsed = parseWithSubstitution(read.text, env);
  const { secrets } = parsed;
  const problems = [...parsed.problems];
  const data = parsed.data ?? {};
  if (problems.length === 0 && (typeof data !== 'object' || Array.isArray(data))) {
    // Never quoted: a file that is one scalar may well be a secret (a token file named by mistake).
    problems.push(`(top level): expected a mapping, got ${kindOf(data)}`);
  }
  if (problems.length === 0) problems.push(...validate(data, FILE));
  if (problems.length === 0) {
    const format = (parsed.data as { file_format: string }).file_format;
    // Minor versions of the schema only add keys (1.1 also renamed experimental ones).
    if (!/^1\.[01](-rc\.\d+)?$/.test(format)) {
      problems.push(`file_format: expected "1.0" or "1.1", got "${format}"`);
    }
  }
  if (problems.length > 0) {
    return { settings: {}, problems: problems.map((p) => `${file}: ${p}`), secrets };
  }

  const raw = parsed.data as RawFile;
  const settings: PartialSettings & { fileExports?: ExportSettings } = { configFile: file };
  if (raw.disabled !== undefined) settings.disabled = raw.disabled;
  if (raw.log_level !== undefined) settings.logLevel = raw.log_level;

  if (raw.resource) {
    const attributes: Record<string, string> = {};
    if (raw.resource.attributes_list !== undefined) {
      const list = parseKeyValueList(raw.resource.attributes_list);
      if ('error' in list) problems.push(`resource.attributes_list: ${list.error}`);
      else Object.assign(attributes, list.value);
    }
    for (const { name, value } of raw.resource.attributes ?? []) {
      if (value === undefined || value === null) continue;
      attributes[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    settings.resourceAttributes = attributes;
  }

  const readers = raw.meter_provider?.readers ?? [];
  const reader = readers.findIndex((r) => r.pull);
  const pull = readers[reader]?.pull;
  const prometheus = pull?.exporter['prometheus/development'];
  if (raw.meter_provider?.readers !== undefined) {
    const push = readers.flatMap((r, i) =>
      r.periodic
        ? readPeriodic(r.periodic, `meter_provider.readers[${i}].periodic.exporter`, problems)
        : [],
    );
    settings.fileExports = { prometheus: pull !== undefined, push };
  }
  if (prometheus) {
    const at = `meter_provider.readers[${reader}].pull.exporter.prometheus/development`;
    const { host, port } = prometheus as { host?: string; port?: number };
    if (port !== undefined) {
      if (port > 65535) {
        problems.push(`${at}.port: expected a port number from 1 to 65535, got ${port}`);
      }
      settings.listener = {
        port,
        host: host ?? '127.0.0.1',
        perInstance: false,
        setting: `${at}.port`,
      };
    }
    const scope = readWithout(prometheus, SCOPE_INFO);
    const target = readWithout(prometheus, TARGET_INFO);
    for (const { problem } of [scope, target]) if (problem) problems.push(`${at}: ${problem}`);
    if (scope.without !== undefined) settings.withoutScopeInfo = scope.without;
    if (target.without !== undefined) settings.withoutTargetInfo = target.without;
  }
  const limits = pull?.cardinality_limits;
  if (limits?.default !== undefined) settings.cardinalityLimit = limits.default;
  if (limits) {
    settings.cardinalityLimitsByType = Object.fromEntries(
      Object.entries(limits).filter(([type]) => type !== 'default'),
    );
  }

  const { own, sdk } = readViews(raw.meter_provider?.views ?? [], problems);
  // Reader-level limits per instrument type sit below a view's own limit.
  for (const metric of METRIC_NAMES) {
    const byType = limits?.[METRIC_INSTRUMENTS[metric].type];
    if (byType !== undefined) own[metric] = { cardinalityLimit: byType, ...own[metric] };
  }
  settings.views = own;
  settings.sdkViews = sdk;

  const ours = raw['instrumentation/development']?.js?.[PACKAGE_NAME];
  // Values the file gives are checked as strictly as the environment's, by the same parsers.
  const at = `instrumentation/development.js.${PACKAGE_NAME}`;
  if (ours?.path !== undefined) {
    const path = parsePath(ours.path);
    if ('error' in path) problems.push(`${at}.path: ${path.error}`);
    else settings.path = path.value;
  }
  if (ours?.entity_type_key !== undefined) {
    const key = parseIdentifier(ours.entity_type_key);
    if ('error' in key) problems.push(`${at}.entity_type_key: ${key.error}`);
    else settings.entityTypeKey = key.value;
  }
  if (ours?.auth_failures_per_minute !== undefined) {
    settings.authFailuresPerMinute = ours.auth_failures_per_minute;
  }
  if (ours?.max_concurrent_scrapes !== undefined) {
    settings.maxConcurrentScrapes = ours.max_concurrent_scrapes;
  }
  if (ours?.scrape_timeout_ms !== undefined) settings.scrapeTimeoutMs = ours.scrape_timeout_ms;
  if (ours?.duration_entity_type !== undefined) {
    settings.durationEntityType = ours.duration_entity_type;
  }
  if (ours?.enabled_instrumentations !== undefined) {
    settings.instrumentations = [...new Set(ours.enabled_instrumentations)];
  }
  if (ours?.events?.max_new_entities !== undefined) {
    settings.maxNewEntities = ours.events.max_new_entities;
  }
  if (ours?.events?.max_new_operations !== undefined) {
    settings.maxNewOperations = ours.events.max_new_operations;
  }
  if (ours?.events) {
    settings.events = {
      entities: ours.events.entities ?? [],
      operations: ours.events.operations ?? [],
    };
  }
  return { settings, problems: problems.map((p) => `${file}: ${p}`), secrets };
}
