/**
 * A small structural validator for the parts of the OTel declarative configuration this package
 * reads. Each problem names the key's path (`meter_provider.views[0].stream...`) and what was
 * expected, so a user can fix the file from the message alone.
 */
export type Schema =
  | { kind: 'string'; oneOf?: readonly string[] }
  | { kind: 'number'; integer?: boolean; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'array'; items: Schema }
  | {
      kind: 'object';
      props: Record<string, Schema>;
      /** Keys the OTel schema defines but this package does not use: accepted and ignored. */
      ignored?: readonly string[];
      required?: readonly string[];
      /** Any other key is accepted and ignored (a section other tools own). */
      open?: boolean;
    }
  /** A key whose value may be empty (`default:` in an aggregation) or an object. */
  | { kind: 'empty' }
  | { kind: 'any' };

export const str = (oneOf?: readonly string[]): Schema => ({ kind: 'string', oneOf });
export const num = (opts: { integer?: boolean; min?: number; max?: number } = {}): Schema => ({
  kind: 'number',
  ...opts,
});
export const bool: Schema = { kind: 'boolean' };
export const any: Schema = { kind: 'any' };
export const empty: Schema = { kind: 'empty' };
export const arr = (items: Schema): Schema => ({ kind: 'array', items });
export const obj = (
  props: Record<string, Schema>,
  opts: { ignored?: readonly string[]; required?: readonly string[]; open?: boolean } = {},
): Schema => ({ kind: 'object', props, ...opts });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // Infinity and NaN are no JSON: JSON.stringify would call them null.
  if (typeof value === 'number') return `number ${String(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function validate(value: unknown, schema: Schema, path = ''): string[] {
  const where = path || '(top level)';
  switch (schema.kind) {
    case 'any':
      return [];
    case 'empty':
      return value === null || (typeof value === 'object' && !Array.isArray(value))
        ? []
        : [`${where}: expected an empty value, got ${describe(value)}`];
    case 'string':
      if (typeof value !== 'string') return [`${where}: expected a string, got ${describe(value)}`];
      if (schema.oneOf && !schema.oneOf.includes(value)) {
        return [`${where}: expected one of ${schema.oneOf.join(', ')}, got "${value}"`];
      }
      return [];
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return [`${where}: expected a number, got ${describe(value)}`];
      }
      if (schema.integer && !Number.isInteger(value)) {
        return [`${where}: expected an integer, got ${value}`];
      }
      // Past 2^53 integers round: the number read is not the number written.
      if (schema.integer && !Number.isSafeInteger(value)) {
        return [
          `${where}: expected an integer from ${schema.min ?? -Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}, got ${value}`,
        ];
      }
      if (schema.min !== undefined && value < schema.min) {
        return [`${where}: expected a number >= ${schema.min}, got ${value}`];
      }
      if (schema.max !== undefined && value > schema.max) {
        return [`${where}: expected a number <= ${schema.max}, got ${value}`];
      }
      return [];
    case 'boolean':
      return typeof value === 'boolean'
        ? []
        : [`${where}: expected true or false, got ${describe(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${where}: expected a list, got ${describe(value)}`];
      return value.flatMap((item, i) => validate(item, schema.items, `${path}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [`${where}: expected a mapping, got ${describe(value)}`];
      }
      const record = value as Record<string, unknown>;
      const problems: string[] = [];
      for (const key of schema.required ?? []) {
        if (!(key in record)) problems.push(`${join(path, key)}: required`);
      }
      for (const [key, child] of Object.entries(record)) {
        // Own keys only: `constructor` or `toString` must not find Object.prototype's.
        const sub = Object.hasOwn(schema.props, key) ? schema.props[key] : undefined;
        if (sub) problems.push(...validate(child, sub, join(path, key)));
        else if (!schema.open && !schema.ignored?.includes(key)) {
          const known = Object.keys(schema.props).join(', ');
          problems.push(`${join(path, key)}: unknown key (expected one of: ${known})`);
        }
      }
      return problems;
    }
  }
}
