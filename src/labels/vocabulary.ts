/**
 * The label values Scanopy produces, so that every label this package writes has a known, bounded
 * set of values. Anything else folds to a fixed value (see labels.ts).
 */

/** HTTP methods kept as they are; any other method folds to `_OTHER` (OTel's semantic conventions). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  // Known to the semantic conventions since v1.38 (the safe method with a body).
  'QUERY',
]);

/** Entity types as Scanopy names them (PascalCase). */
export const KNOWN_ENTITIES: readonly string[] = [
  'Organization',
  'Invite',
  'Share',
  'Network',
  'DaemonApiKey',
  'UserApiKey',
  'User',
  'Tag',
  'Discovery',
  'Daemon',
  'Host',
  'Service',
  'Port',
  'Binding',
  'Interface',
  'Subnet',
  'Group',
  'Topology',
];

/** Operations by event kind, snake_case as Scanopy publishes them. */
export const KNOWN_OPERATIONS: Readonly<
  Record<'entity' | 'auth' | 'telemetry', readonly string[]>
> = {
  entity: ['created', 'updated', 'deleted', 'discovery_started', 'discovery_cancelled'],
  auth: [
    'register',
    'login_success',
    'login_failed',
    'password_reset_requested',
    'password_reset_completed',
    'password_changed',
    'email_verified',
    'session_expired',
    'oidc_linked',
    'oidc_unlinked',
    'logged_out',
    'rotate_key',
    'api_key_auth_failed',
  ],
  telemetry: [
    'org_created',
    'onboarding_modal_completed',
    'plan_selected',
    'first_api_key_created',
    'first_daemon_registered',
    'checkout_started',
  ],
};

/** Path label of a request that no route matched: one value, however many URLs clients send. */
export const UNMATCHED_PATH = 'unmatched';
/** Method label of a method outside KNOWN_METHODS. */
export const OTHER_METHOD = '_OTHER';
/** A well-formed label value outside the known set. */
export const OTHER = 'other';
/** Both labels of an event that is not an event at all (no kind, no operation). */
export const UNKNOWN = 'unknown';
