// Parses an exposition with Python's prometheus_client (Debian's python3-prometheus-client, for
// Debian's /usr/bin/python3): its OpenMetrics parser, which is strict (UNIT must be the name's
// suffix, `le` canonical, `# EOF` last), or its text-format parser. A parse error is a rejection
// with Python's message.
import { spawn } from 'node:child_process';

export const PYTHON = process.env.SCANOPY_TEST_PYTHON ?? '/usr/bin/python3';

export interface PythonSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar: { labels: Record<string, string>; value: number; timestamp: number | null } | null;
}

export interface PythonFamily {
  name: string;
  type: string;
  unit: string;
  documentation: string;
  samples: PythonSample[];
}

const SCRIPT = `
import json, math, sys
which = sys.argv[1]
text = sys.stdin.read()
if which == 'openmetrics':
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
def num(v):
    v = float(v)
    if math.isinf(v):
        return '+Inf' if v > 0 else '-Inf'
    if math.isnan(v):
        return 'NaN'
    return v
out = []
for f in text_string_to_metric_families(text):
    samples = []
    for s in f.samples:
        e = None
        if s.exemplar is not None:
            ts = s.exemplar.timestamp
            e = {'labels': s.exemplar.labels, 'value': num(s.exemplar.value),
                 'timestamp': None if ts is None else float(ts)}
        samples.append({'name': s.name, 'labels': s.labels, 'value': num(s.value), 'exemplar': e})
    out.append({'name': f.name, 'type': f.type, 'unit': getattr(f, 'unit', ''),
                'documentation': f.documentation, 'samples': samples})
json.dump(out, sys.stdout)
`;

function revive(value: unknown): number {
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  if (value === 'NaN') return NaN;
  return value as number;
}

export function pythonParse(text: string, which: 'openmetrics' | 'text'): Promise<PythonFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', SCRIPT, which], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) =>
      reject(
        new Error(
          `cannot run ${PYTHON} (apt-get install python3-prometheus-client): ${error.message}`,
        ),
      ),
    );
    child.once('close', (code) => {
      if (code !== 0) {
        const last = stderr.trim().split('\n').pop() ?? '';
        reject(new Error(`prometheus_client's ${which} parser refused the exposition: ${last}`));
        return;
      }
      const families = JSON.parse(stdout) as PythonFamily[];
      for (const f of families) {
        for (const s of f.samples) {
          s.value = revive(s.value);
          if (s.exemplar) s.exemplar.value = revive(s.exemplar.value);
        }
      }
      resolve(families);
    });
    child.stdin.once('error', () => undefined);
    child.stdin.end(text);
  });
}
