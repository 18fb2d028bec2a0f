// One process's metrics pipeline: its own MeterProvider, a pull reader, the producer of the
// package's series, and the scrape that turns a collection into exposition bytes.
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
import { ScopeProducer } from './producer';
import { DEFAULT_CARDINALITY_LIMIT } from '../series/series-map';
import { formatKey, PROMETHEUS_TEXT, type ExpositionFormat } from '../exposition/format';
import { PrometheusTextSerializer } from '../exposition/serializer';
import { PACKAGE_NAME, VERSION } from '../version';

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

/**
 * The exposition's bytes: a Node Buffer, typed by what callers use of it, so that the package's
 * types need no @types/node.
 */
export interface ExpositionBytes extends Uint8Array {
  toString(encoding?: 'utf8'): string;
}

/** One scrape's text, shared by the callers that asked for it meanwhile. */
export interface Exposition {
  bytes: ExpositionBytes;
  /** Says the bytes are no longer read (sent, or turned into a string); once is enough. */
  release: () => void;
}

interface Round {
  bytes: Promise<Buffer>;
  /** Callers that have not released the bytes yet. */
  readers: number;
  /** Where the bytes were written, reusable once every reader has released them. */
  buffer: Buffer | undefined;
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
  private readonly producer: ScopeProducer;
  /** The scrape in progress of each format, which callers arriving meanwhile share. */
  private readonly rounds = new Map<string, Round>();
  /** The largest buffer of a finished scrape that nobody reads any more. */
  private spare: Buffer | undefined;

  constructor(options: PipelineOptions = {}) {
    this.instruments = new Instruments(options);
    this.resource = defaultResource().merge(
      resourceFromAttributes(options.resourceAttributes ?? {}),
    );
    this.producer = new ScopeProducer(
      { name: PACKAGE_NAME, version: VERSION },
      () => this.instruments.all,
    );
    this.reader = new PullMetricReader({
      metricProducers: [this.producer],
      cardinalitySelector: (type) =>
        options.cardinalityLimitsByType?.[type] ??
        options.cardinalityLimit ??
        DEFAULT_CARDINALITY_LIMIT,
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

  /**
   * The exposition in `format` (default: the Prometheus text format 0.0.4) as UTF-8 bytes.
   * Concurrent callers of one format share one collection; each must `release()` its exposition
   * once the bytes are sent, so that the next scrape can write into the same buffer: a fresh
   * multi-megabyte buffer per scrape costs the service GC pauses.
   */
  scrape(format: ExpositionFormat = PROMETHEUS_TEXT): Promise<Exposition> {
    const key = formatKey(format);
    let current = this.rounds.get(key);
    if (current === undefined) {
      current = this.startRound(key, format);
      this.rounds.set(key, current);
    }
    const round = current;
    round.readers++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (--round.readers === 0 && round.buffer !== undefined) this.keepSpare(round.buffer);
    };
    return round.bytes.then(
      (bytes) => ({ bytes, release }),
      (error: unknown) => {
        release();
        throw error;
      },
    );
  }

  /** One spare buffer at most: the larger one, which fits the next scrape of either format. */
  private keepSpare(buffer: Buffer): void {
    if (this.spare === undefined || buffer.length > this.spare.length) this.spare = buffer;
  }

  private startRound(key: string, format: ExpositionFormat): Round {
    const round: Round = {
      readers: 0,
      buffer: undefined,
      bytes: this.produce(format)
        .then(({ bytes, buffer }) => {
          round.buffer = buffer;
          return bytes;
        })
        .finally(() => {
          if (this.rounds.get(key) === round) this.rounds.delete(key);
        }),
    };
    return round;
  }

  private async produce(format: ExpositionFormat): Promise<{ bytes: Buffer; buffer: Buffer }> {
    // A scrape is where a tracer provider registered since the last one is noticed.
    this.instruments.refreshTracing();
    // The SDK's own instruments come through the reader; the package's metrics are written
    // straight from their series (see ScopeProducer.without).
    const collection = this.producer.without(() => this.reader.collect());
    const { resourceMetrics, errors } = await collection;
    for (const error of errors) diag.error('scanopy-metrics: collection error', error);
    const spare = this.spare;
    this.spare = undefined;
    const own = {
      scope: this.producer.scope,
      metrics: this.producer.metrics(),
      startTime: this.producer.startTime,
    };
    return this.serializer.serialize(resourceMetrics, own, spare, format);
  }

  shutdown(): Promise<void> {
    return this.meterProvider.shutdown();
  }
}
