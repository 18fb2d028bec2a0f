// Reads the Prometheus text exposition format (version 0.0.4), and the samples of OpenMetrics,
// into samples, so that tests can assert exact values without matching on whole lines.

export interface Sample {
  /** The sample's name as written (`http_request_duration_seconds_bucket`, ...). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`bad sample value in: ${line}`);
  return value;
}

/** Reads a quoted label value starting at `start` (just after the opening quote). */
function readLabelValue(line: string, start: number): { value: string; end: number } {
  let value = '';
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (c === '"') return { value, end: i + 1 };
    if (c !== '\\') {
      value += c;
      continue;
    }
    const escaped = line[++i];
    if (escaped === '\\') value += '\\';
    else if (escaped === '"') value += '"';
    else if (escaped === 'n') value += '\n';
    else throw new Error(`bad escape \\${escaped} in: ${line}`);
  }
  throw new Error(`unterminated label value in: ${line}`);
}

function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error(`no metric name in: ${line}`);
  const labels: Record<string, string> = {};
  let i = name.length;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const labelName = LABEL_NAME.exec(line.slice(i))?.[0];
      if (
        labelName === undefined ||
        line.slice(i + labelName.length, i + labelName.length + 2) !== '="'
      ) {
        throw new Error(`bad label at column ${i} in: ${line}`);
      }
      if (labelName in labels) throw new Error(`label ${labelName} repeated in: ${line}`);
      const { value, end } = readLabelValue(line, i + labelName.length + 2);
      labels[labelName] = value;
      i = end;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`expected , or } at column ${i} in: ${line}`);
    }
    i++;
  }
  // An OpenMetrics exemplar (` # {trace_id="…"} 0.1 1.7e9`) follows the value: not part of it.
  const valuePart = line.slice(i);
  const exemplar = valuePart.indexOf(' # ');
  const rest = (exemplar >= 0 ? valuePart.slice(0, exemplar) : valuePart).trim().split(/ +/);
  if (rest.length < 1 || rest.length > 2) throw new Error(`bad value part in: ${line}`);
  return { name, labels, value: parseValue(rest[0], line) };
}

/** Every sample of an exposition, in order; comment and blank lines are skipped. */
export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map(parseLine);
}

/** The samples named exactly `name` (`http_requests_total`, `..._bucket`, ...). */
export function series(text: string, name: string): Sample[] {
  return parseExposition(text).filter((s) => s.name === name);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/**
 * The value of the one sample named `name` whose labels are exactly `labels` (no more, no fewer);
 * throws when there is none or more than one.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = series(text, name).filter((s) => sameLabels(s.labels, labels));
  if (found.length !== 1) {
    throw new Error(
      `expected exactly one sample ${name}${JSON.stringify(labels)}, found ${found.length}`,
    );
  }
  return found[0].value;
}

/** The `# TYPE` lines as name → type, in order of appearance. */
export function metricTypes(text: string): Record<string, string> {
  const types: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) types[match[1]] = match[2];
  }
  return types;
}

/** One sample as `[labels, value]`. */
export type Row = [Record<string, string>, number];

/** The samples named `name` as `[labels, value]` rows, in order, to compare a whole metric at once. */
export function table(text: string, name: string): Row[] {
  return series(text, name).map((s) => [s.labels, s.value]);
}

/** The `table(text, 'http_requests_total')` row of one kind of request. */
export function requestsRow(
  method: string,
  path: string,
  status: string,
  entity_type: string,
  value: number,
): Row {
  return [{ method, path, status, entity_type }, value];
}

/** The value of `http_requests_total` for one kind of request, by an anonymous caller by default. */
export function requestsTotal(
  text: string,
  method: string,
  path: string,
  status: string,
  entity_type = 'anonymous',
): number {
  return sample(text, 'http_requests_total', { method, path, status, entity_type });
}

/** The value of `scanopy_events_total` for one entity and operation. */
export function eventsTotal(text: string, entity: string, operation: string): number {
  return sample(text, 'scanopy_events_total', { entity, operation });
}

/** Every `scanopy_events_total` sample of a fresh scrape as `[entity, operation, value]`, in order. */
export async function scrapedEvents(metrics: {
  scrape(): Promise<string>;
}): Promise<[string, string, number][]> {
  return series(await metrics.scrape(), 'scanopy_events_total').map((s) => [
    s.labels.entity,
    s.labels.operation,
    s.value,
  ]);
}
