// The label text of a series: names for the negotiated scheme, colliding names merged.
import type { AttributeValue } from '@opentelemetry/api';
import { escapeLabelValue, labelName, quotedIfNeeded, type EscapingScheme } from './names';

/** One label before naming: the OTel key and its value. */
export type LabelEntry = readonly [key: string, value: AttributeValue | undefined];

function valueText(value: AttributeValue | undefined = ''): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `name="value",...` of `entries` in their order, names written for `scheme`. Keys that name the
 * same label once written (`a.b` and `a_b`, an attribute `otel.scope.name` and the scope's label)
 * make one label whose value is theirs joined with `;`, in the order of the keys, as OTel's
 * Prometheus compatibility specification asks: a repeated label name makes Prometheus reject the
 * whole scrape. Empty keys are left out (no label can have an empty name).
 */
export function labelText(entries: readonly LabelEntry[], scheme: EscapingScheme): string {
  const names: string[] = [];
  let merged: Map<string, LabelEntry[]> | undefined;
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry[0] === '') continue;
    const name = labelName(entry[0], scheme);
    names.push(name);
    if (seen.has(name)) merged = new Map();
    seen.add(name);
  }
  if (merged === undefined) {
    let text = '';
    let i = 0;
    for (const [key, value] of entries) {
      if (key === '') continue;
      text += `${text.length > 0 ? ',' : ''}${written(names[i++], scheme)}="${escapeLabelValue(valueText(value))}"`;
    }
    return text;
  }
  let i = 0;
  for (const entry of entries) {
    if (entry[0] === '') continue;
    const name = names[i++];
    const group = merged.get(name);
    if (group === undefined) merged.set(name, [entry]);
    else group.push(entry);
  }
  let text = '';
  for (const [name, group] of merged) {
    const value = group
      .slice()
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map((e) => valueText(e[1]))
      .join(';');
    text += `${text.length > 0 ? ',' : ''}${written(name, scheme)}="${escapeLabelValue(value)}"`;
  }
  return text;
}

function written(name: string, scheme: EscapingScheme): string {
  return scheme === 'allow-utf-8' ? quotedIfNeeded(name, true) : name;
}
