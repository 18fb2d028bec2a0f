// The attributes of `target_info` as the SDK's resource gives them (its default resource merged
// with the configured attributes), made without loading the SDK: a scrape that has no SDK
// instrument to collect needs nothing else from it, and every module loaded stays in the heap that
// each request's garbage collection walks. A test compares the two on both SDK lines.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The version of @opentelemetry/core, which the SDK reports as `telemetry.sdk.version`. */
function coreVersion(): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(require.resolve('@opentelemetry/core'));
  } catch {
    return undefined;
  }
  // Up from its main file to its own package.json (the 2.x and 3.x lines keep it at different depths).
  for (let at = dir; path.dirname(at) !== at; at = path.dirname(at)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(at, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === '@opentelemetry/core') {
        return typeof pkg.version === 'string' ? pkg.version : undefined;
      }
    } catch {
      // No package.json at this level: look one up.
    }
  }
  return undefined;
}

/**
 * `defaultResource().merge(resourceFromAttributes(attributes)).attributes`, in the same order, or
 * undefined where the SDK's version cannot be read (the caller then builds the SDK's resource).
 */
export function resourceAttributes(
  attributes: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const version = coreVersion();
  if (version === undefined) return undefined;
  const argv0 = process.argv0;
  const defaults: Record<string, string> = {
    'service.name': argv0 ? `unknown_service:${argv0}` : 'unknown_service',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': version,
  };
  // The SDK's merge lists the configured attributes first, then the defaults they leave unset.
  const merged: Record<string, string> = { ...attributes };
  for (const [key, value] of Object.entries(defaults)) merged[key] ??= value;
  return merged;
}
