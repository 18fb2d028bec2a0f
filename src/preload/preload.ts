// What the preload does: settings, diagnostics, the metrics instance, the koa patch, the token file.
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { loadSettings } from '../config/load';
import { instrumentType, toViewOptions } from '../config/sdk-views';
import type { LogLevel, Settings } from '../config/types';
import { KoaMetricsInstrumentation } from './instrumentation';
import { reportUninstrumented } from './uninstrumented';
import { ScanopyMetrics } from '../scanopy-metrics';
import { readTokenFile, watchTokenFile } from '../auth/token-file';
import { PACKAGE_NAME } from '../version';

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
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  stderr: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  options: PreloadOptions = {},
): Preload {
  const { settings, problems } = loadSettings(env, cwd);
  if (settings.disabled) return { settings, problems: [], stop: () => Promise.resolve() };

  let tokens = settings.tokens;
  if (problems.length === 0 && settings.tokenFile) {
    const read = readTokenFile(settings.tokenFile);
    if ('error' in read) problems.push(read.error);
    else tokens = read.tokens;
  }
  if (problems.length > 0) {
    stderr(`${PACKAGE_NAME}: ${problems.join('; ')}; the metrics route is disabled (404)`);
    tokens = [];
  }

  diag.setLogger(new DiagConsoleLogger(), {
    logLevel: LOG_LEVELS[settings.logLevel],
    suppressOverrideMessage: true,
  });

  const metrics = new ScanopyMetrics({
    token: tokens,
    path: settings.path,
    entityTypeKey: settings.entityTypeKey,
    authFailuresPerMinute: settings.authFailuresPerMinute,
    resourceAttributes: settings.resourceAttributes,
    withoutScopeInfo: settings.withoutScopeInfo,
    withoutTargetInfo: settings.withoutTargetInfo,
    cardinalityLimit: settings.cardinalityLimit,
    cardinalityLimitsByType: Object.fromEntries(
      Object.entries(settings.cardinalityLimitsByType).flatMap(([name, limit]) => {
        const type = instrumentType(name);
        return type && limit !== undefined ? [[type, limit]] : [];
      }),
    ),
    views: settings.views,
    sdkViews: settings.sdkViews.map(toViewOptions),
    events: settings.events,
  });
  const cleanups: (() => void)[] = [];
  if (problems.length === 0 && settings.tokenFile) {
    cleanups.push(watchTokenFile(settings.tokenFile, (t) => metrics.setTokens(t)));
  }
  cleanups.push(metrics.subscribeToEventsChannel());

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
    const http = new HttpInstrumentation();
    http.setMeterProvider(metrics.pipeline.meterProvider);
    cleanups.push(() => http.disable());
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
