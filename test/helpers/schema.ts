// A small structural schema for configuration files parsed from YAML: keys and types, required
// keys, enums and patterns, as the documented schemas (Kubernetes CRDs, the OpenTelemetry
// Collector's component docs) state them. `check` lists every mismatch with its path.
export type Schema =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'integer'; minimum?: number; maximum?: number }
  | { type: 'boolean' }
  | { type: 'array'; items: Schema }
  | {
      type: 'object';
      /** The keys allowed, and their schemas. */
      properties?: Record<string, Schema>;
      required?: readonly string[];
      /** The schema of every value, for maps with free keys (labels, component names). */
      values?: Schema;
      /** Keys allowed besides `properties` (e.g. a component's name after `/`). */
      keyPattern?: RegExp;
    }
  | { type: 'any' };

export const str = (extra: { enum?: readonly string[]; pattern?: RegExp } = {}): Schema => ({
  type: 'string',
  ...extra,
});
export const int = (minimum?: number, maximum?: number): Schema => ({
  type: 'integer',
  minimum,
  maximum,
});
export const bool: Schema = { type: 'boolean' };
export const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
export const obj = (
  properties: Record<string, Schema>,
  required: readonly string[] = [],
): Schema => ({ type: 'object', properties, required });
export const mapOf = (values: Schema, keyPattern?: RegExp): Schema => ({
  type: 'object',
  values,
  keyPattern,
});

export function check(value: unknown, schema: Schema, where = '$'): string[] {
  switch (schema.type) {
    case 'any':
      return [];
    case 'string': {
      if (typeof value !== 'string') return [`${where}: expected a string, got ${typeof value}`];
      const problems: string[] = [];
      if (schema.enum && !schema.enum.includes(value)) {
        problems.push(`${where}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
      }
      if (schema.pattern && !schema.pattern.test(value)) {
        problems.push(
          `${where}: ${JSON.stringify(value)} does not match ${String(schema.pattern)}`,
        );
      }
      return problems;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return [`${where}: expected an integer, got ${JSON.stringify(value)}`];
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        return [`${where}: ${value} is below ${schema.minimum}`];
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        return [`${where}: ${value} is above ${schema.maximum}`];
      }
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${where}: expected a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${where}: expected a list`];
      return value.flatMap((item, i) => check(item, schema.items, `${where}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [`${where}: expected a mapping`];
      }
      const record = value as Record<string, unknown>;
      const problems: string[] = [];
      for (const key of schema.required ?? []) {
        if (!(key in record)) problems.push(`${where}: missing ${key}`);
      }
      for (const [key, item] of Object.entries(record)) {
        const known = schema.properties?.[key];
        if (known !== undefined) problems.push(...check(item, known, `${where}.${key}`));
        else if (schema.values !== undefined && (schema.keyPattern?.test(key) ?? true)) {
          problems.push(...check(item, schema.values, `${where}.${key}`));
        } else problems.push(`${where}: unknown key ${key}`);
      }
      return problems;
    }
  }
}
