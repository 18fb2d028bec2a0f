// Assembles the reference service: a Koa app shaped like Scanopy's server. It contains no metrics
// code; the package under test adds that (preloaded, or wired by hand in tests).
import Koa from 'koa';
import Router from '@koa/router';

import { EventBus } from './bus';
import type { Logger } from './bus';
import { createApiRouter } from './routes';
import { createStore } from './store';
import type { Store } from './store';

export const SERVER_VERSION = '0.1.0';

export interface CreateAppOptions {
  /** The bus to publish on; a new one (using `logger`) when absent. */
  bus?: EventBus;
  /** Where the default bus reports failing subscribers; defaults to `console.error`. */
  logger?: Logger;
  /** The records to serve; a new, empty store when absent. */
  store?: Store;
}

export interface ReferenceService {
  app: Koa;
  bus: EventBus;
  store: Store;
}

/**
 * Turns a thrown error into the `{ success, data, error }` envelope. Client errors (4xx from
 * `ctx.throw`) show their message; server errors show a generic one and are re-emitted on the app,
 * so `app.on('error')` still receives them as it would without this middleware.
 */
function errorEnvelope(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught));
      const { status, expose, headers } = err as Error & {
        status?: unknown;
        expose?: boolean;
        headers?: Record<string, string>;
      };
      const code = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
      ctx.status = code;
      if (headers !== undefined) ctx.set(headers);
      ctx.body = {
        success: false,
        data: null,
        error: code < 500 && expose === true ? err.message : 'Internal server error',
      };
      if (code >= 500) ctx.app.emit('error', err, ctx);
    }
  };
}

function healthRouter() {
  const router = new Router();
  router.get('/api/health', (ctx) => {
    ctx.body = { success: true, data: `Scanopy Server ${SERVER_VERSION}`, error: null };
  });
  return router;
}

export function createApp(options: CreateAppOptions = {}): ReferenceService {
  const bus = options.bus ?? new EventBus({ logger: options.logger });
  const store = options.store ?? createStore();
  const app = new Koa();

  // Scanopy's order: health outside everything else, then error handling and the API, whose
  // routes authenticate the caller once the route is known (as Scanopy's handlers do).
  const health = healthRouter();
  app.use(health.routes());
  app.use(errorEnvelope());
  const api = createApiRouter(store, bus);
  app.use(api.routes());
  app.use(api.allowedMethods());

  return { app, bus, store };
}
