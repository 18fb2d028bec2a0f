/**
 * Environment substitution in otel-config.yaml scalars, as the OTel declarative configuration
 * specifies: `${VAR}`, `${env:VAR}`, `${VAR:-default}`, and `$$` for a literal `$`.
 * Returns the substituted text and the names of the variables it read, or an error message for a
 * malformed reference.
 */
export function substitute(
  text: string,
  env: Record<string, string | undefined>,
): { value: string; names: string[] } | { error: string } {
  let out = '';
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] !== '{') {
      out += c;
      i++;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) return { error: `unterminated "\${" in ${JSON.stringify(text)}` };
    const ref = text.slice(i + 2, end);
    const match = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(ref);
    if (!match) {
      return { error: `invalid substitution "\${${ref}}": expected \${NAME} or \${NAME:-default}` };
    }
    const [, name, fallback] = match;
    names.push(name);
    const value = env[name];
    out += value !== undefined && value !== '' ? value : (fallback ?? '');
    i = end + 1;
  }
  return { value: out, names };
}
