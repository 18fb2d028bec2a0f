// Decides what kind of caller a request comes from, the way Scanopy's auth extractors do, and
// leaves it at `ctx.state.entityType` (the value of the `entity_type` label on HTTP metrics).
// The credentials are fixed demo values: this service exists to be instrumented, not to be secure.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';

import type Koa from 'koa';
import type { CallerKind } from 'scanopy-metrics';

import type { EventBus } from './bus';

export const DEMO_USER_SESSION = 'demo-user-session';
export const DEMO_API_KEY = 'demo-api-key';
export const DEMO_DAEMON_KEY = 'demo-daemon-key';

export interface AuthState {
  entityType: CallerKind;
}

// Compares digests so the comparison takes the same time whatever the length of the input.
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

interface Credential {
  kind: CallerKind;
  valid: boolean;
  /** The auth event operation Scanopy publishes when this kind of credential is rejected. */
  failure: 'login_failed' | 'api_key_auth_failed';
  error: string;
}

// The first credential header present decides (Authorization, then X-Api-Key, then X-Daemon-Key);
// a request carrying none is anonymous. `ctx.get` returns '' for an absent header, so an empty one
// counts as absent.
function readCredential(ctx: Koa.Context): Credential | undefined {
  const authorization = ctx.get('authorization');
  if (authorization !== '') {
    const match = /^Bearer (.+)$/i.exec(authorization);
    return {
      kind: 'user',
      valid: match !== null && sameSecret(match[1], DEMO_USER_SESSION),
      failure: 'login_failed',
      error: 'Invalid or expired session',
    };
  }
  const apiKey = ctx.get('x-api-key');
  if (apiKey !== '') {
    return {
      kind: 'api_key',
      valid: sameSecret(apiKey, DEMO_API_KEY),
      failure: 'api_key_auth_failed',
      error: 'Invalid API key',
    };
  }
  const daemonKey = ctx.get('x-daemon-key');
  if (daemonKey !== '') {
    return {
      kind: 'daemon',
      valid: sameSecret(daemonKey, DEMO_DAEMON_KEY),
      failure: 'api_key_auth_failed',
      error: 'Invalid daemon key',
    };
  }
  return undefined;
}

export function authMiddleware(bus: EventBus): Koa.Middleware<AuthState> {
  return async (ctx, next) => {
    // Set first, so a rejected request is still labelled `anonymous`.
    ctx.state.entityType = 'anonymous';

    const credential = readCredential(ctx);
    if (credential !== undefined && !credential.valid) {
      // Never include the credential itself in the event.
      await bus.publish({
        kind: 'auth',
        operation: credential.failure,
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        ipAddress: ctx.ip,
        userAgent: ctx.get('user-agent') || undefined,
      });
      ctx.status = 401;
      ctx.body = { success: false, data: null, error: credential.error };
      return;
    }

    if (credential !== undefined) ctx.state.entityType = credential.kind;
    await next();
  };
}
