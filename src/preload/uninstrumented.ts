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

export const NOT_LOADED_THROUGH_REQUIRE =
  `${PACKAGE_NAME}: this process answered an HTTP request, but no Koa application runs the ` +
  'metrics middleware: koa was not loaded through require(). An ES-module service ' +
  "(import Koa from 'koa') must be started with --import scanopy-metrics/register, not --require";

export const NOT_INSTRUMENTED =
  `${PACKAGE_NAME}: this process answered an HTTP request, but no Koa application runs the ` +
  'metrics middleware: the preload instruments koa 2 and 3 and @eggjs/koa 2 and 3 (Egg 4); ' +
  'requests of other frameworks are not counted';

export interface UninstrumentedCheck {
  /** Whether some Koa application got the middleware. */
  instrumentedAny(): boolean;
  /** Whether the ES-module hook (--import) is registered. */
  esmHooked(): boolean;
  stderr(line: string): void;
}

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
    check.stderr(check.esmHooked() ? NOT_INSTRUMENTED : NOT_LOADED_THROUGH_REQUIRE);
  }
  channel.subscribe(onFinish);
  return unsubscribe;
}
