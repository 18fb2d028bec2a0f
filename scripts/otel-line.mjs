// Rewrites a copy's package.json onto one OpenTelemetry JS line, so that CI can test the line the
// lockfile does not pin: `node scripts/otel-line.mjs 3 path/to/package.json`, then `npm install`.
// Direct dependencies get the line's exact versions and `overrides` holds every transitive copy to
// them too (one api, one core, one sdk-metrics), as a host on that line would have.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

const LINES = {
  2: {
    '@opentelemetry/api': '1.9.0',
    '@opentelemetry/core': '2.12.0',
    '@opentelemetry/resources': '2.12.0',
    '@opentelemetry/sdk-metrics': '2.12.0',
    '@opentelemetry/instrumentation': '0.223.0',
    '@opentelemetry/instrumentation-http': '0.223.0',
    '@opentelemetry/exporter-prometheus': '0.223.0',
    '@opentelemetry/sdk-trace': '2.12.0',
    '@opentelemetry/context-async-hooks': '2.12.0',
    '@opentelemetry/instrumentation-runtime-node': '0.36.1',
    '@opentelemetry/instrumentation-host-metrics': '0.6.0',
    '@opentelemetry/exporter-metrics-otlp-http': '0.223.0',
    '@opentelemetry/exporter-metrics-otlp-proto': '0.223.0',
  },
  3: {
    '@opentelemetry/api': '1.10.0',
    '@opentelemetry/core': '3.1.1',
    '@opentelemetry/resources': '3.1.1',
    '@opentelemetry/sdk-metrics': '3.1.1',
    '@opentelemetry/instrumentation': '0.301.1',
    '@opentelemetry/instrumentation-http': '0.301.0',
    '@opentelemetry/exporter-prometheus': '0.301.0',
    '@opentelemetry/sdk-trace': '3.1.1',
    '@opentelemetry/context-async-hooks': '3.1.1',
    '@opentelemetry/instrumentation-runtime-node': '0.37.0',
    '@opentelemetry/instrumentation-host-metrics': '0.7.0',
    '@opentelemetry/exporter-metrics-otlp-http': '0.301.0',
    '@opentelemetry/exporter-metrics-otlp-proto': '0.301.0',
  },
};

const [line, file] = process.argv.slice(2);
const versions = LINES[line];
if (!versions || !file) {
  process.stderr.write('usage: node scripts/otel-line.mjs <2|3> <package.json>\n');
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(file, 'utf8'));
for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
  for (const name of Object.keys(pkg[field] ?? {})) {
    if (name in versions) pkg[field][name] = versions[name];
  }
}
pkg.overrides = { ...pkg.overrides, ...versions };
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
