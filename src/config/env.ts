// The settings the environment variables give (SCANOPY_*, OTEL_*), each checked with its name.
import { parseTokens } from '../auth/token-text';
import { readExportEnv, parseMillis, type ExportEnv } from './exporters';
import type { LogLevel, PartialSettings } from './types';
import {
  LOG_LEVELS,
  parseBoolean,
  parseCount,
  parseIdentifier,
  parseKeyValueList,
  parsePath,
  parsePort,
  parseTimerMs,
  type Parsed,
} from './values';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_CLUSTER = { enabled: true, timeoutMs: 1000 } as const;

/** The OTel instrumentations this package can enable (OTEL_NODE_ENABLED_INSTRUMENTATIONS). */
export const SUPPORTED_INSTRUMENTATIONS = ['http', 'runtime-node'] as const;

/**
 * Reads the environment variables. An empty variable counts as unset, as the OTel specification
 * says. Each problem names the variable and what was expected, never a secret's value.
 */
export function readEnv(env: Record<string, string | undefined>): {
  settings: PartialSettings;
  problems: string[];
  exports: ExportEnv;
} {
  const settings: PartialSettings = {};
  const problems: string[] = [];
  const read = <T>(name: string, parse: (text: string) => Parsed<T>, use: (v: T) => void): void => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return;
    const parsed = parse(text);
    if ('error' in parsed) problems.push(`${name}: ${parsed.error}`);
    else use(parsed.value);
  };

  read('OTEL_SDK_DISABLED', parseBoolean, (v) => (settings.disabled = v));
  read(
    'SCANOPY_METRICS_DISABLED',
    parseBoolean,
    (v) => (settings.disabled = (settings.disabled ?? false) || v),
  );
  read(
    'OTEL_LOG_LEVEL',
    (t): Parsed<LogLevel> => {
      const level = t.trim().toLowerCase() as LogLevel;
      return LOG_LEVELS.includes(level)
        ? { value: level }
        : { error: `expected one of ${LOG_LEVELS.join(', ')}, got "${t}"` };
    },
    (v) => (settings.logLevel = v),
  );
  read('SCANOPY_METRICS_TOKEN', parseTokens, (v) => (settings.tokens = v));
  read(
    'SCANOPY_METRICS_TOKEN_FILE',
    (t) => ({ value: t.trim() }),
    (v) => (settings.tokenFile = v),
  );
  if (settings.tokens && settings.tokenFile) {
    problems.push(
      'SCANOPY_METRICS_TOKEN_FILE: expected only one of SCANOPY_METRICS_TOKEN and SCANOPY_METRICS_TOKEN_FILE to be set',
    );
  }
  read('SCANOPY_METRICS_PATH', parsePath, (v) => (settings.path = v));
  read('SCANOPY_METRICS_ENTITY_TYPE_KEY', parseIdentifier, (v) => (settings.entityTypeKey = v));
  read(
    'SCANOPY_METRICS_AUTH_FAILURES_PER_MINUTE',
    parseCount,
    (v) => (settings.authFailuresPerMinute = v),
  );
  read(
    'SCANOPY_METRICS_MAX_CONCURRENT_SCRAPES',
    parseCount,
    (v) => (settings.maxConcurrentScrapes = v),
  );
  read(
    'SCANOPY_METRICS_SCRAPE_TIMEOUT_MS',
    (t) => parseTimerMs(t, 0),
    (v) => (settings.scrapeTimeoutMs = v),
  );
  read(
    'SCANOPY_METRICS_DURATION_ENTITY_TYPE',
    parseBoolean,
    (v) => (settings.durationEntityType = v),
  );
  read('SCANOPY_METRICS_EVENTS_MAX_NEW_ENTITIES', parseCount, (v) => (settings.maxNewEntities = v));
  read(
    'SCANOPY_METRICS_EVENTS_MAX_NEW_OPERATIONS',
    parseCount,
    (v) => (settings.maxNewOperations = v),
  );

  const attributes: Record<string, string> = {};
  read('OTEL_RESOURCE_ATTRIBUTES', parseKeyValueList, (v) => Object.assign(attributes, v));
  read(
    'OTEL_SERVICE_NAME',
    (t) => ({ value: t.trim() }),
    (v) => (attributes['service.name'] = v),
  );
  if (Object.keys(attributes).length > 0) settings.resourceAttributes = attributes;

  read(
    'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
    (t): Parsed<string[]> => {
      const names = t
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const unknown = names.filter(
        (n) => !(SUPPORTED_INSTRUMENTATIONS as readonly string[]).includes(n),
      );
      return unknown.length > 0
        ? {
            error: `expected a comma-separated list of ${SUPPORTED_INSTRUMENTATIONS.join(', ')}, got "${unknown.join(',')}"`,
          }
        : { value: names };
    },
    (v) => (settings.instrumentations = v),
  );
  readListenerEnv(read, settings, problems);
  const exportEnv = readExportEnv(read, problems);
  return { settings, problems, exports: exportEnv };
}

type Read = <T>(name: string, parse: (text: string) => Parsed<T>, use: (v: T) => void) => void;

/** The separate metrics port and cluster aggregation. */
function readListenerEnv(read: Read, settings: PartialSettings, problems: string[]): void {
  let port: number | undefined;
  let host: string | undefined;
  let perInstance: boolean | undefined;
  read('SCANOPY_METRICS_PORT', parsePort, (v) => (port = v));
  read(
    'SCANOPY_METRICS_HOST',
    (t) => ({ value: t.trim() }),
    (v) => (host = v),
  );
  read('SCANOPY_METRICS_PORT_PER_INSTANCE', parseBoolean, (v) => (perInstance = v));
  if (port !== undefined) {
    settings.listener = {
      port,
      host: host ?? DEFAULT_METRICS_HOST,
      perInstance: perInstance ?? false,
    };
  } else if (host !== undefined || perInstance !== undefined) {
    const name = host !== undefined ? 'SCANOPY_METRICS_HOST' : 'SCANOPY_METRICS_PORT_PER_INSTANCE';
    problems.push(`${name}: expected SCANOPY_METRICS_PORT to be set too`);
  }
  read('SCANOPY_METRICS_ON_SERVICE_PORT', parseBoolean, (v) => (settings.onServicePort = v));
  let enabled: boolean | undefined;
  let timeoutMs: number | undefined;
  read('SCANOPY_METRICS_CLUSTER', parseBoolean, (v) => (enabled = v));
  read('SCANOPY_METRICS_CLUSTER_TIMEOUT', parseMillis, (v) => (timeoutMs = v));
  if (enabled !== undefined || timeoutMs !== undefined) {
    settings.cluster = {
      enabled: enabled ?? DEFAULT_CLUSTER.enabled,
      timeoutMs: timeoutMs ?? DEFAULT_CLUSTER.timeoutMs,
    };
  }
}
