// Says once on stderr when the process answers HTTP while no Koa application runs the
// package's middleware, rather than leaving a service silently without request metrics.
import diagnosticsChannel from 'node:diagnostics_channel';
import { PACKAGE_NAME } from '../version';

/** Published by node:http once per response a server of the process sent. */
const RESPONSE_FINISH = 'http.server.response.finish';

const OWN_SERVERS = new WeakSet<object>();

/** A server the package runs itself (a separate metrics port): its answers prove nothing. */
export function markOwnServer(server: object): void {
  OWN_SERVERS.add(server);
}

const NONE = `${PACKAGE_NAME}: this process answered an HTTP request, but no Koa application runs the metrics middleware`;
const WHAT = 'the preload instruments koa 2 and 3 and @eggjs/koa 2 and 3 (Egg 4)';

/**
 * Started with --require: koa's ES entry point loads its CommonJS build, which is patched, but
 * Egg 4's ES-module build of @eggjs/koa is patched only by --import's ES-module hook.
 */
export const NOT_INSTRUMENTED_WITH_REQUIRE =
  `${NONE}: ${WHAT}, and the ES-module build of @eggjs/koa (Egg 4 imported from an ES module) only ` +
  'when the service is started with --import scanopy-metrics/register, not --require';

/** Started with --import, the ES-module hook registered. */
export const NOT_INSTRUMENTED = `${NONE}: ${WHAT}; requests of other frameworks are not counted`;

/**
 * Started with --import on a Node without synchronous module hooks, where no ES-module build
 * needed the loader thread (es-module-builds.ts): the ES-module build of @eggjs/koa is not hooked.
 */
export const NOT_INSTRUMENTED_NO_LOADER =
  `${NONE}: ${WHAT}; on this Node (no module.registerHooks) the ES-module build of @eggjs/koa ` +
  "is hooked only if @eggjs/koa or egg is installed in a node_modules directory at or above the service's entry point or working directory, " +
  'and none was at start; requests of other frameworks are not counted';

/** How the process was preloaded, as far as the message depends on it. */
export type PreloadedWith = 'require' | 'import' | 'import-without-loader';

export interface UninstrumentedCheck {
  /** Whether some Koa application got the middleware. */
  instrumentedAny(): boolean;
  /** --require, or --import with or without the ES-module hook. */
  preloadedWith(): PreloadedWith;
  stderr(line: string): void;
}

const MESSAGES: Record<PreloadedWith, string> = {
  require: NOT_INSTRUMENTED_WITH_REQUIRE,
  import: NOT_INSTRUMENTED,
  'import-without-loader': NOT_INSTRUMENTED_NO_LOADER,
};

/**
 * Waits for the first response of a server the package does not own, then checks once. Koa
 * composes an application in `callback()`, which runs before the application answers anything,
 * so by then a patched koa has instrumented it. Returns the unsubscription.
 */
export function reportUninstrumented(check: UninstrumentedCheck): () => void {
  const channel = diagnosticsChannel.channel(RESPONSE_FINISH);
  let subscribed = true;
  const unsubscribe = (): void => {
    if (subscribed) channel.unsubscribe(onFinish);
    subscribed = false;
  };
  let checked = false;
  function onFinish(message: unknown): void {
    if (checked) return;
    const server = (message as { server?: unknown } | null)?.server;
    if (typeof server === 'object' && server !== null && OWN_SERVERS.has(server)) return;
    checked = true;
    // Not from inside the publish, which iterates over the subscribers.
    process.nextTick(unsubscribe);
    if (check.instrumentedAny()) return;
    check.stderr(MESSAGES[check.preloadedWith()]);
  }
  channel.subscribe(onFinish);
  return unsubscribe;
}
