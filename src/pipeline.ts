import {
  MeterProvider,
  MetricReader,
  type InstrumentType,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { diag } from '@opentelemetry/api';
import { Instruments, type InstrumentsOptions } from './instruments';
import { ScopeProducer } from './metrics/producer';
import { PrometheusTextSerializer } from './serializer';
import { PACKAGE_NAME, VERSION } from './version';

export interface PipelineOptions extends InstrumentsOptions {
  /** Resource attributes, shown on `target_info` (`service.name`, ...). */
  resourceAttributes?: Record<string, string>;
  /** Leave out the `otel_scope_*` labels on every series. Default true. */
  withoutScopeInfo?: boolean;
  /** Leave out the `target_info` metric. Default false. */
  withoutTargetInfo?: boolean;
  /** Views for instruments recorded through the SDK (instrumentation-http). */
  sdkViews?: ViewOptions[];
  /** Cardinality limits of SDK instruments by type, over `cardinalityLimit`. */
  cardinalityLimitsByType?: Partial<Record<InstrumentType, number>>;
}

/** A reader that only answers `collect()`: the package serves the text itself, on the service's port. */
class PullMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The package's own OTel pipeline: a MeterProvider that is never made global (the host service may
 * run its own SDK), one pull reader, and the three metrics fed to the reader as a MetricProducer.
 */
export class MetricsPipeline {
  readonly instruments: Instruments;
  readonly reader: MetricReader;
  readonly meterProvider: MeterProvider;
  readonly resource: Resource;
  private readonly serializer: PrometheusTextSerializer;
  private pending: Promise<Buffer> | undefined;

  constructor(options: PipelineOptions = {}) {
    this.instruments = new Instruments(options);
    this.resource = defaultResource().merge(
      resourceFromAttributes(options.resourceAttributes ?? {}),
    );
    const producer = new ScopeProducer(
      { name: PACKAGE_NAME, version: VERSION },
      () => this.instruments.all,
    );
    this.reader = new PullMetricReader({
      metricProducers: [producer],
      cardinalitySelector: (type) =>
        options.cardinalityLimitsByType?.[type] ?? options.cardinalityLimit ?? 2000,
    });
    this.meterProvider = new MeterProvider({
      resource: this.resource,
      readers: [this.reader],
      views: options.sdkViews,
    });
    this.serializer = new PrometheusTextSerializer({
      withoutTargetInfo: options.withoutTargetInfo ?? false,
      withoutScopeInfo: options.withoutScopeInfo ?? true,
    });
  }

  async collect(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await this.reader.collect();
    for (const error of errors) diag.error('scanopy-metrics: collection error', error);
    return resourceMetrics;
  }

  /** The Prometheus text as UTF-8 bytes. Concurrent callers share one collection. */
  scrape(): Promise<Buffer> {
    this.pending ??= this.collect()
      .then((metrics) => this.serializer.serialize(metrics))
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  shutdown(): Promise<void> {
    return this.meterProvider.shutdown();
  }
}
