// What the preload does: settings, diagnostics, the metrics instance, the koa patch, the token file.
// The metrics, the koa instrumentation and instrumentation-http are loaded only once the settings
// say they are needed: a disabled start loads no OpenTelemetry SDK, and instrumentation-http and
// the runtime metrics are loaded only when enabled.
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { loadSettings } from '../config/load';
import type { LogLevel, Settings } from '../config/types';
import { reportUninstrumented } from './uninstrumented';
import type { ScanopyMetrics } from '../scanopy-metrics';
import {
  readTokenFile,
  TOKEN_FILE_VARIABLE,
  watchTokenFile,
  type TokenFileRead,
} from '../auth/token-file';
import { shortTokenWarning } from '../auth/token-text';
import { PACKAGE_NAME } from '../version';

/* eslint-disable @typescript-eslint/no-require-imports -- the lazy loads described above */
const load = {
  metrics: () => require('../scanopy-metrics') as typeof import('../scanopy-metrics'),
  sdkViews: () => require('../config/sdk-views') as typeof import('../config/sdk-views'),
  koa: () => require('./instrumentation') as typeof import('./instrumentation'),
  http: () =>
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http'),
  runtime: () =>
    require('../runtime/runtime-metrics') as typeof import('../runtime/runtime-metrics'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const INSTANCE = Symbol.for(`${PACKAGE_NAME}.instance`);
const ESM_HOOK = Symbol.for(`${PACKAGE_NAME}.esm-hook`);

/** register.mts calls it once import-in-the-middle's loader is registered. */
export function markEsmHookRegistered(): void {
  (globalThis as { [ESM_HOOK]?: boolean })[ESM_HOOK] = true;
}

function esmHookRegistered(): boolean {
  return (globalThis as { [ESM_HOOK]?: boolean })[ESM_HOOK] === true;
}

/** The instance the preload started in this process, if it started one. */
export function preloaded(): ScanopyMetrics | undefined {
  return (globalThis as { [INSTANCE]?: ScanopyMetrics })[INSTANCE];
}

const LOG_LEVELS: Record<LogLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

export interface PreloadOptions {
  /**
   * Say once on stderr if the process answers an HTTP request while no Koa application got the
   * middleware (the entry points ask for it; an in-process preload serves apps by hand).
   */
  reportUninstrumented?: boolean;
}

export interface Preload {
  metrics?: ScanopyMetrics;
  settings: Settings;
  /** Configuration problems, already reported on stderr. */
  problems: string[];
  /** Undoes what the preload did (for tests). */
  stop(): Promise<void>;
}

/**
 * Everything `scanopy-metrics/register` does, given an environment: resolve the settings, build
 * the metrics, patch koa, listen on the events channel and, if asked, enable OTel's
 * instrumentation-http into the same provider. A bad configuration is reported in one line on
 * stderr and leaves the route disabled; the service runs either way.
 */
export function startPreload(
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
  stderr: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  options: PreloadOptions = {},
): Preload {
  const { settings, problems } = loadSettings(env, cwd);
  if (settings.disabled) return { settings, problems: [], stop: () => Promise.resolve() };

  let tokens = settings.tokens;
  let tokenFileRead: TokenFileRead | undefined;
  if (problems.length === 0 && settings.tokenFile) {
    // A token file that gives no token now may give one later (a secret mounted after start):
    // the route answers 404 meanwhile, and the rest of the configuration stands.
    tokenFileRead = readTokenFile(settings.tokenFile);
    if ('error' in tokenFileRead) {
      stderr(
        `${PACKAGE_NAME}: ${TOKEN_FILE_VARIABLE}: ${settings.tokenFile}: ${tokenFileRead.error}; the metrics route answers 404 until the file holds a token`,
      );
    } else {
      tokens = tokenFileRead.tokens;
    }
  }
  if (problems.length > 0) {
    stderr(`${PACKAGE_NAME}: ${problems.join('; ')}; the metrics route is disabled (404)`);
    tokens = [];
  }
  // Once per process: a short token is a weak secret, whichever source gave it.
  let warnedShort = false;
  const warnIfShort = (source: string, list: readonly string[]): void => {
    const warning = warnedShort ? undefined : shortTokenWarning(source, list);
    if (warning === undefined) return;
    warnedShort = true;
    stderr(`${PACKAGE_NAME}: ${warning}`);
  };
  warnIfShort(settings.tokenFile ? TOKEN_FILE_VARIABLE : 'SCANOPY_METRICS_TOKEN', tokens);

  diag.setLogger(new DiagConsoleLogger(), {
    logLevel: LOG_LEVELS[settings.logLevel],
    suppressOverrideMessage: true,
  });

  const { ScanopyMetrics } = load.metrics();
  // The SDK's views are loaded (and the SDK with them) only when the file configures some.
  const byType = Object.entries(settings.cardinalityLimitsByType);
  const sdkViews = byType.length > 0 || settings.sdkViews.length > 0 ? load.sdkViews() : undefined;
  const metrics = new ScanopyMetrics({
    token: tokens,
    path: settings.path,
    entityTypeKey: settings.entityTypeKey,
    authFailuresPerMinute: settings.authFailuresPerMinute,
    maxConcurrentScrapes: settings.maxConcurrentScrapes,
    scrapeTimeoutMs: settings.scrapeTimeoutMs,
    resourceAttributes: settings.resourceAttributes,
    withoutScopeInfo: settings.withoutScopeInfo,
    withoutTargetInfo: settings.withoutTargetInfo,
    cardinalityLimit: settings.cardinalityLimit,
    cardinalityLimitsByType: Object.fromEntries(
      byType.flatMap(([name, limit]) => {
        const type = sdkViews?.instrumentType(name);
        return type && limit !== undefined ? [[type, limit]] : [];
      }),
    ),
    views: settings.views,
    sdkViews: sdkViews ? settings.sdkViews.map(sdkViews.toViewOptions) : [],
    events: {
      ...settings.events,
      maxNewEntities: settings.maxNewEntities,
      maxNewOperations: settings.maxNewOperations,
      warn: stderr,
    },
    durationEntityType: settings.durationEntityType,
  });
  const cleanups: (() => void)[] = [];
  if (problems.length === 0 && settings.tokenFile) {
    const onTokens = (t: string[]): void => {
      warnIfShort(TOKEN_FILE_VARIABLE, t);
      metrics.setTokens(t);
    };
    cleanups.push(watchTokenFile(settings.tokenFile, onTokens, { initial: tokenFileRead }));
  }
  cleanups.push(metrics.subscribeToEventsChannel());

  const { KoaMetricsInstrumentation } = load.koa();
  const koa = new KoaMetricsInstrumentation({ middleware: metrics.firstMiddleware() });
  cleanups.push(() => koa.disable());
  if (options.reportUninstrumented) {
    cleanups.push(
      reportUninstrumented({
        instrumentedAny: () => koa.instrumentedAny(),
        esmHooked: esmHookRegistered,
        stderr,
      }),
    );
  }
  if (settings.instrumentations.includes('http')) {
    const { HttpInstrumentation } = load.http();
    const http = new HttpInstrumentation();
    http.setMeterProvider(metrics.pipeline.meterProvider);
    cleanups.push(() => http.disable());
  }
  if (settings.instrumentations.includes('runtime-node')) {
    // Loaded only when asked for: the two instrumentations and their dependencies add a
    // noticeable part to the service's start-up time.
    const { startRuntimeMetrics } = load.runtime();
    cleanups.push(startRuntimeMetrics(metrics.pipeline.meterProvider));
  }

  (globalThis as { [INSTANCE]?: ScanopyMetrics })[INSTANCE] = metrics;
  return {
    metrics,
    settings,
    problems,
    stop: async () => {
      for (const cleanup of cleanups) cleanup();
      delete (globalThis as { [INSTANCE]?: ScanopyMetrics })[INSTANCE];
      await metrics.shutdown();
    },
  };
}
