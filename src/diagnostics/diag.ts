// The package's diagnostics: OpenTelemetry's `diag`, with @opentelemetry/api loaded at the first
// message (or when the SDK is built) rather than at start-up, where loading it costs tens of ms.
// Every module of the package logs through this one; none imports the API's values itself.
import type { DiagLogger, DiagLogLevel } from '@opentelemetry/api';
import { RepeatLimitedLogger } from './repeat-limit';

/** OTEL_LOG_LEVEL's values (the configuration's `log_level`). */
export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';

type Api = typeof import('@opentelemetry/api');

/** Where @opentelemetry/api 1.x keeps its globals (context, diag, trace…), shared by every copy. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let api: Api | undefined;
/** The level the preload asked for (OTEL_LOG_LEVEL), applied once the API is loaded. */
let wantedLevel: LogLevel | undefined;

/**
 * What some copy of the API registered globally under `name` (`diag`, `trace`…), read without
 * loading the API: undefined when nothing is.
 */
export function registeredGlobal(name: 'diag' | 'trace' | 'context'): unknown {
  return (globalThis as { [API_GLOBAL]?: Record<string, unknown> })[API_GLOBAL]?.[name];
}

/** Whether some copy of the API already has a logger registered (the host's own, say). */
function loggerRegistered(): boolean {
  return registeredGlobal('diag') !== undefined;
}

function levelOf(loaded: Api, level: LogLevel): DiagLogLevel {
  const levels: Record<LogLevel, DiagLogLevel> = {
    none: loaded.DiagLogLevel.NONE,
    error: loaded.DiagLogLevel.ERROR,
    warn: loaded.DiagLogLevel.WARN,
    info: loaded.DiagLogLevel.INFO,
    debug: loaded.DiagLogLevel.DEBUG,
    verbose: loaded.DiagLogLevel.VERBOSE,
    all: loaded.DiagLogLevel.ALL,
  };
  return levels[level];
}

/**
 * OTel's console logger, but with every level on stderr (OTel's writes info and debug on stdout):
 * a service's stdout is its own log, which a log shipper may parse.
 */
function stderrLogger(): DiagLogger {
  const write = (message: string, ...args: unknown[]): void => console.error(message, ...args);
  return { error: write, warn: write, info: write, debug: write, verbose: write };
}

/**
 * The console logger at the wanted level, its repeats bounded, unless a logger is registered
 * already: the host's, set after the preload started and before the API was needed, stays in place.
 */
function installLogger(loaded: Api): void {
  if (wantedLevel === undefined || loggerRegistered()) return;
  loaded.diag.setLogger(new RepeatLimitedLogger(stderrLogger()), {
    logLevel: levelOf(loaded, wantedLevel),
    suppressOverrideMessage: true,
  });
}

/** @opentelemetry/api, loaded on first use (with the preload's logger, if it asked for one). */
export function otelApi(): Api {
  if (api === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use
    api = require('@opentelemetry/api') as Api;
    installLogger(api);
  }
  return api;
}

/**
 * The preload's logger: OTel's console logger at `level`, registered when the API is first
 * needed (at once if it is loaded already).
 */
export function useConsoleLogger(level: LogLevel): void {
  wantedLevel = level;
  if (api !== undefined) installLogger(api);
}

type LogFunction = (message: string, ...args: unknown[]) => void;
type MessageLevel = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

const RANK: Record<LogLevel, number> = {
  none: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  verbose: 5,
  all: 6,
};

/**
 * Whether a message would be dropped anyway, decided without loading the API: nothing is
 * registered yet, and the preload's level (if any) is below the message's. A message that
 * nobody would print must not cost the service the API's load.
 */
function unheard(level: MessageLevel): boolean {
  if (api !== undefined || loggerRegistered()) return false;
  return wantedLevel === undefined || RANK[level] > RANK[wantedLevel];
}

function logAt(level: MessageLevel): LogFunction {
  return (message, ...args) => {
    if (unheard(level)) return;
    otelApi().diag[level](message, ...args);
  };
}

/** What the package logs with: the API's `diag`, loaded at the first message someone hears. */
export const diag: Record<MessageLevel, LogFunction> = {
  error: logAt('error'),
  warn: logAt('warn'),
  info: logAt('info'),
  debug: logAt('debug'),
  verbose: logAt('verbose'),
};
