// Keeping secrets out of configuration error messages.
/**
 * Keeps secrets out of configuration error messages. Messages quote what they got (`got "x"`),
 * which helps unless the value is, or holds, a secret: a configured token, or what was substituted
 * into otel-config.yaml from a secret-looking variable. Such a quoted value is replaced by a note,
 * and any other occurrence of a secret is too, so a message says what was wrong without it.
 */
export const WITHHELD = '(a value holding a secret, not shown)';

/** Variable names whose values are secrets by convention. */
const SECRET_NAME = /TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|KEY|CREDENTIAL|PRIVATE/i;
/** The package's own variables that only look like secrets. */
const NOT_SECRET = new Set(['SCANOPY_METRICS_ENTITY_TYPE_KEY']);

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET.has(name);
}

/** A quoted value as the messages write it: `"..."`, with JSON's escapes. */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

export function redact(message: string, secrets: Iterable<string>): string {
  const forms: string[] = [];
  for (const secret of secrets) {
    if (secret === '') continue;
    forms.push(secret, JSON.stringify(secret).slice(1, -1));
  }
  if (forms.length === 0) return message;
  const holds = (text: string) => forms.some((form) => text.includes(form));
  if (!holds(message)) return message;
  let out = message.replace(QUOTED, (quoted) => (holds(quoted) ? WITHHELD : quoted));
  // A secret with a quote in it, or one outside quotes.
  for (const form of forms) out = out.split(form).join(WITHHELD);
  return out;
}
