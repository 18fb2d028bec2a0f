// The push exporter: OTel's OTLP exporter, loaded lazily, behind a guard that bounds what it logs.
import { randomUUID } from 'node:crypto';
import { diag } from '../diagnostics/diag';
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

/** Delta batches kept while an export is under way; older ones are dropped past this. */
const MAX_WAITING_DELTAS = 10;

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
  private readonly delta: boolean;
  /** The export under way, if any. */
  private sending: Promise<void> | undefined;
  private waiting: ResourceMetrics[] = [];

  constructor(private readonly settings: PushReaderSettings) {
    this.delta = prefersDelta(settings, InstrumentType.COUNTER);
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
    // The reader is answered at once: a slow receiver then never trips the reader's own timeout
    // (which would log at every interval), and the export goes on in the background.
    resultCallback({ code: ExportResultCode.SUCCESS });
    const batch = { ...metrics, resource };
    if (this.sending) {
      // One export at a time. A cumulative batch holds everything the ones before it held, so
      // only the newest waits; delta batches each hold their own interval, so a few wait.
      if (this.delta) {
        if (this.waiting.length >= MAX_WAITING_DELTAS) {
          this.waiting.shift();
          this.report({
            code: ExportResultCode.FAILED,
            error: new Error('the receiver is too slow; an interval was dropped'),
          });
        }
        this.waiting.push(batch);
      } else {
        this.waiting = [batch];
      }
      return;
    }
    this.send(batch);
  }

  private send(batch: ResourceMetrics): void {
    this.sending = this.load()
      .then(
        (exporter) =>
          new Promise<void>((resolve) =>
            exporter.export(batch, (result) => {
              this.report(result);
              resolve();
            }),
          ),
      )
      .catch((error: unknown) =>
        this.report({ code: ExportResultCode.FAILED, error: error as Error }),
      )
      .finally(() => {
        this.sending = undefined;
        const next = this.waiting.shift();
        if (next) this.send(next);
      });
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

  /** Waits until every batch handed over so far has been sent (or has failed). */
  async forceFlush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.exporter) await (await this.exporter).forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.exporter) await (await this.exporter).shutdown();
  }
}
