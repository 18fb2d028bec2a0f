// Runtime metrics of the Node.js process, recorded into the package's MeterProvider by OTel's own
// instrumentations, so that the route and every other reader of that provider serve them.
import type { MeterProvider } from '@opentelemetry/api';
import { HostMetricsInstrumentation } from '@opentelemetry/instrumentation-host-metrics';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';

/**
 * Starts the runtime metrics (`runtime-node` in OTEL_NODE_ENABLED_INSTRUMENTATIONS, the name
 * OpenTelemetry's auto-instrumentations give them); returns the function that stops them.
 *
 * - `@opentelemetry/instrumentation-runtime-node`: event-loop delay (min, max, mean, stddev,
 *   p50, p90, p99 since the previous collection) from `perf_hooks.monitorEventLoopDelay`,
 *   event-loop utilization and time, GC durations by kind, V8 heap spaces, and active resources
 *   (handles and requests keeping the loop alive) by type;
 * - `@opentelemetry/instrumentation-host-metrics`, limited to its `process.cpu` and
 *   `process.memory` groups: process CPU time and utilization, and resident memory. The host
 *   groups (system CPU, memory, network) are left out: they describe the machine, not the
 *   service, and the network group reads every interface's counters at each collection.
 *
 * Everything but the GC observer and the event-loop delay sampling is read at collection time,
 * so a service that is not scraped pays nothing else.
 */
export function startRuntimeMetrics(meterProvider: MeterProvider): () => void {
  const runtime = new RuntimeNodeInstrumentation();
  runtime.setMeterProvider(meterProvider);
  const processMetrics = new HostMetricsInstrumentation({
    metricGroups: ['process.cpu', 'process.memory'],
  });
  processMetrics.setMeterProvider(meterProvider);
  return () => {
    runtime.disable();
    processMetrics.disable();
  };
}
