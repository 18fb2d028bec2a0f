// What the preload does: settings, diagnostics, the metrics instance, the koa patch, the token file.
// The metrics, the koa instrumentation and instrumentation-http are loaded only once the settings
// say they are needed: a disabled start loads no OpenTelemetry SDK, and instrumentation-http and
// the runtime metrics are loaded only when enabled.
import { useConsoleLogger } from '../diagnostics/diag';
import { loadSettings } from '../config/load';
import type { Settings } from '../config/types';
import { markOwnServer, reportUninstrumented, type PreloadedWith } from './uninstrumented';
import type { ScanopyMetrics } from '../scanopy-metrics';
import {
  readTokenFile,
  TOKEN_FILE_VARIABLE,
  watchTokenFile,
  type TokenFileRead,
} from '../auth/token-file';
import { shortTokenWarning } from '../auth/token-text';
import { PACKAGE_NAME } from '../version';
import { exportOnExit } from '../export/final-export';
import type { MetricsListener } from '../listener/metrics-listener';
import type { ListenerSettings } from '../config/types';

/**
 * The route's own listener. With SCANOPY_METRICS_PORT_PER_INSTANCE the port is offset by
 * NODE_APP_INSTANCE (PM2's instance number) and bound by this process alone, a port per worker.
 */
async function openListener(
  metrics: ScanopyMetrics,
  settings: ListenerSettings,
  env: NodeJS.ProcessEnv,
  stderr: (line: string) => void,
): Promise<MetricsListener | undefined> {
  let port = settings.port;
  if (settings.perInstance) {
    const instance = env.NODE_APP_INSTANCE?.trim() ?? '';
    if (!/^\d+$/.test(instance) || settings.port + Number(instance) > 65535) {
      stderr(
        `${PACKAGE_NAME}: SCANOPY_METRICS_PORT_PER_INSTANCE: expected NODE_APP_INSTANCE to be a whole number that keeps the port at most 65535, got "${instance}"; the metrics listener is off`,
      );
      return undefined;
    }
    port += Number(instance);
  }
  // Loaded only when asked for: it loads koa and node:http, which must not be loaded before the
  // service's own require (instrumentation-http patches node:http as koa requires it).
  const { startMetricsListener } = await import('../listener/metrics-listener.js');
  return startMetricsListener(
    metrics.route(),
    {
      port,
      host: settings.host,
      exclusive: settings.perInstance,
      setting:
        settings.setting ??
        (settings.perInstance ? 'SCANOPY_METRICS_PORT_PER_INSTANCE' : 'SCANOPY_METRICS_PORT'),
      own: markOwnServer,
    },
    stderr,
  );
}

/* eslint-disable @typescript-eslint/no-require-imports -- the lazy loads described above */
const load = {
  metrics: () => require('../scanopy-metrics') as typeof import('../scanopy-metrics'),
  sdkViews: () => require('../config/sdk-views') as typeof import('../config/sdk-views'),
  hooks: () => require('./module-hooks') as typeof import('./module-hooks'),
  http: () =>
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http'),
  runtime: () =>
    require('../runtime/runtime-metrics') as typeof import('../runtime/runtime-metrics'),
  cluster: () => require('../cluster/aggregation') as typeof import('../cluster/aggregation'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const INSTANCE = Symbol.for(`${PACKAGE_NAME}.instance`);
const ESM_HOOK = Symbol.for(`${PACKAGE_NAME}.esm-hook`);

/** The preload's module hooks, once it started. */
let moduleHooks: import('./module-hooks').ModuleHooks | undefined;

/**
 * register.mts calls it under --import: with `esmHooks` once import-in-the-middle's loader is
 * registered (ES-module imports of koa are patched from then on), without when no loader was
 * needed (es-module-builds.ts).
 */
export function markImportPreload(esmHooks: boolean): void {
  if (esmHooks) moduleHooks?.hookEsModules();
  (globalThis as { [ESM_HOOK]?: PreloadedWith })[ESM_HOOK] = esmHooks
    ? 'import'
    : 'import-without-loader';
}

function preloadedWith(): PreloadedWith {
  return (globalThis as { [ESM_HOOK]?: PreloadedWith })[ESM_HOOK] ?? 'require';
}

/** The instance the preload started in this process, if it started one. */
export function preloaded(): ScanopyMetrics | undefined {
  return (globalThis as { [INSTANCE]?: ScanopyMetrics })[INSTANCE];
}

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

  useConsoleLogger(settings.logLevel);

  const { ScanopyMetrics } = load.metrics();
  // The SDK's views are loaded (and the SDK with them) only when the file configures some.
  const byType = Object.entries(settings.cardinalityLimitsByType);
  const sdkViews = byType.length > 0 || settings.sdkViews.length > 0 ? load.sdkViews() : undefined;
  // The route on its own port: for the `prometheus` exporter only (the default).
  const listener = settings.exports.prometheus ? settings.listener : undefined;
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
    push: settings.exports.push,
    routeOnServicePort: settings.exports.prometheus && (settings.onServicePort ?? !listener),
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
  const { startClusterAggregation } = load.cluster();
  cleanups.push(startClusterAggregation(metrics.pipeline, settings.cluster, metrics.limiter));
  if (settings.exports.push.length > 0) {
    cleanups.push(exportOnExit(() => metrics.pipeline.flushPush()));
  }

  const { ModuleHooks } = load.hooks();
  // Opened once the process serves a Koa app: a node:cluster primary or Egg's agent, which
  // serve none, must not take the port their workers share.
  let opened: Promise<MetricsListener | undefined> | undefined;
  const onFirstApp = (): void => {
    if (!listener) return;
    opened = openListener(metrics, listener, env, stderr).catch((error: unknown) => {
      stderr(`${PACKAGE_NAME}: the metrics listener could not start: ${String(error)}`);
      return undefined;
    });
  };
  const koa = new ModuleHooks({
    requestStart: metrics.requestStart(),
    middleware: () => metrics.firstMiddleware(),
    onFirstApp,
  });
  moduleHooks = koa;
  cleanups.push(() => {
    koa.disable();
    if (moduleHooks === koa) moduleHooks = undefined;
  });
  if (options.reportUninstrumented) {
    cleanups.push(
      reportUninstrumented({
        instrumentedAny: () => koa.instrumentedAny(),
        preloadedWith,
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
      await (await opened)?.close();
      delete (globalThis as { [INSTANCE]?: ScanopyMetrics })[INSTANCE];
      await metrics.shutdown();
    },
  };
}
