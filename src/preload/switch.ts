// The off switch, read before anything else is loaded: a disabled start costs the service nothing.

/**
 * True when the environment turns the package off (`OTEL_SDK_DISABLED=true` or
 * `SCANOPY_METRICS_DISABLED=true`, as config/env.ts reads them). Any other value leaves the
 * decision, and the reporting of a bad value, to the full configuration.
 */
export function disabledByEnvironment(env: Record<string, string | undefined>): boolean {
  return ['OTEL_SDK_DISABLED', 'SCANOPY_METRICS_DISABLED'].some(
    (name) => env[name]?.trim().toLowerCase() === 'true',
  );
}
