// The push exporter: OTel's OTLP exporter, loaded lazily, behind a guard that bounds what it logs.
import { randomUUID } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  ConsoleMetricExporter,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtlpSettings, PushReaderSettings } from './settings';

/** One id per process: pushed streams of several workers must not look like one. */
const INSTANCE_ID = randomUUID();

/** The endpoint as it may be logged: without user name, password, query or fragment. */
export function loggableEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'the configured endpoint';
  }
}

/** OTel's own OTLP/HTTP exporter for the protocol, loaded on first use only. */
async function loadOtlpExporter(otlp: OtlpSettings): Promise<PushMetricExporter> {
  const temporalityPreference =
    otlp.temporality === 'delta'
      ? AggregationTemporality.DELTA
      : otlp.temporality === 'low_memory'
        ? 2 // AggregationTemporalityPreference.LOWMEMORY
        : AggregationTemporality.CUMULATIVE;
  const config = {
    url: otlp.endpoint,
    headers: otlp.headers,
    timeoutMillis: otlp.timeoutMs,
    compression: otlp.compression as never,
    temporalityPreference,
  };
  if (otlp.protocol === 'http/json') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    return new OTLPMetricExporter(config);
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter(config);
}

/** Which temporality the package's instruments are exported with, by preference. */
export function prefersDelta(settings: PushReaderSettings, type: InstrumentType): boolean {
  const preference = settings.otlp?.temporality ?? 'cumulative';
  if (preference === 'cumulative') return false;
  if (type === InstrumentType.COUNTER || type === InstrumentType.HISTOGRAM) return true;
  return preference === 'delta' && type === InstrumentType.OBSERVABLE_COUNTER;
}

/**
 * The exporter a push reader is given: OTel's OTLP (or console) exporter behind a guard.
 *
 * - The OTLP exporter module is loaded at the first export, not at start-up.
 * - A failed export is reported once, then not again until an export succeeds (a receiver that is
 *   down logs two lines per outage, not one per interval); the reader is told it went fine, so
 *   that the SDK's error handler does not log it again.
 * - The resource gets a `service.instance.id` of its own unless it has one.
 */
export class GuardedExporter implements PushMetricExporter {
  private exporter: Promise<PushMetricExporter> | undefined;
  private failing = false;
  private readonly where: string;

  constructor(private readonly settings: PushReaderSettings) {
    this.where =
      settings.exporter === 'otlp' && settings.otlp
        ? `OTLP export to ${loggableEndpoint(settings.otlp.endpoint)}`
        : 'console export';
  }

  private load(): Promise<PushMetricExporter> {
    this.exporter ??=
      this.settings.exporter === 'otlp' && this.settings.otlp
        ? loadOtlpExporter(this.settings.otlp)
        : Promise.resolve(new ConsoleMetricExporter());
    return this.exporter;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const resource = metrics.resource.attributes['service.instance.id']
      ? metrics.resource
      : metrics.resource.merge(resourceFromAttributes({ 'service.instance.id': INSTANCE_ID }));
    this.load().then(
      (exporter) =>
        exporter.export({ ...metrics, resource }, (result) => {
          this.report(result);
          resultCallback({ code: ExportResultCode.SUCCESS });
        }),
      (error: unknown) => {
        this.report({ code: ExportResultCode.FAILED, error: error as Error });
        resultCallback({ code: ExportResultCode.SUCCESS });
      },
    );
  }

  private report(result: ExportResult): void {
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.failing) diag.info(`scanopy-metrics: ${this.where} works again`);
      this.failing = false;
      return;
    }
    if (this.failing) return;
    this.failing = true;
    const reason = result.error?.message ?? 'unknown error';
    diag.warn(
      `scanopy-metrics: ${this.where} failed (${reason}); further failures are not logged until an export succeeds`,
    );
  }

  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return prefersDelta(this.settings, type)
      ? AggregationTemporality.DELTA
      : AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {
    if (this.exporter) await (await this.exporter).forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.exporter) await (await this.exporter).shutdown();
  }
}
