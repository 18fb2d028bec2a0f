// One process's metrics pipeline: the package's instruments from the start, and the SDK side (its
// own MeterProvider, a pull reader, the producer of the package's series) and the serializer
// loaded on first use, so that start-up loads neither; the scrape turns a collection into bytes.
import type { HrTime } from '@opentelemetry/api';
import { diag } from '../diagnostics/diag';
import type { MeterProvider, MetricReader, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { Instruments, type InstrumentsOptions } from './instruments';
import type { Sdk, SdkOptions } from './sdk';
import { formatKey, PROMETHEUS_TEXT, type ExpositionFormat } from '../exposition/format';
import type { PrometheusTextSerializer } from '../exposition/serializer';
import type { ScopeProducer } from './producer';
import { resourceAttributes } from './resource';
import { PACKAGE_NAME, VERSION } from '../version';

/** The instrumentation scope of the package's own metrics. */
const OWN_SCOPE = { name: PACKAGE_NAME, version: VERSION };

/** The package's own metrics, as the producer lists them. */
type OwnMetric = ReturnType<ScopeProducer['metrics']>[number];

/* eslint-disable @typescript-eslint/no-require-imports -- the lazy loads described above */
const load = {
  sdk: () => require('./sdk') as typeof import('./sdk'),
  serializer: () =>
    require('../exposition/serializer') as typeof import('../exposition/serializer'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Now as OTel's HrTime (seconds, nanoseconds since the epoch), without loading @opentelemetry/core,
 * to the millisecond: `performance` would load perf_hooks at start-up (a few ms) for precision that
 * neither exposition nor export carries.
 */
function hrNow(): HrTime {
  const ms = Date.now();
  const seconds = Math.trunc(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export interface PipelineOptions extends InstrumentsOptions, SdkOptions {
  /** Leave out the `otel_scope_*` labels on every series. Default true. */
  withoutScopeInfo?: boolean;
  /** Leave out the `target_info` metric. Default false. */
  withoutTargetInfo?: boolean;
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

/**
 * Produces the exposition in a format: text, or bytes to release once sent (the metrics route's
 * `scrape`; declared here, where no Koa type is, so that the public types need no @types/koa).
 */
export type Scrape = (format: ExpositionFormat) => Promise<string | Exposition>;

interface Round {
  bytes: Promise<Buffer>;
  /** Callers that have not released the bytes yet. */
  readers: number;
  /** Where the bytes were written, reusable once every reader has released them. */
  buffer: Buffer | undefined;
}

/**
 * The package's own OTel pipeline: a MeterProvider that is never made global (the host service may
 * run its own SDK), one pull reader, and the package's metrics fed to the reader as a
 * MetricProducer. The instruments record from the start; the SDK is built when first needed.
 */
export class MetricsPipeline {
  readonly instruments: Instruments;
  private readonly options: PipelineOptions;
  /** When the metrics started counting: the start time of every cumulative series. */
  private readonly startTime = hrNow();
  private built: Sdk | undefined;
  /** `target_info`'s attributes while the SDK is not built. */
  private lightAttributes: Record<string, string> | undefined;
  private textSerializer: PrometheusTextSerializer | undefined;
  /** The scrape in progress of each format, which callers arriving meanwhile share. */
  private readonly rounds = new Map<string, Round>();
  /** The largest buffer of a finished scrape that nobody reads any more. */
  private spare: Buffer | undefined;

  /** Where a scrape takes the package's own metrics from, if not from this process. */
  private ownSource: (() => Promise<readonly OwnMetric[]>) | undefined;

  constructor(options: PipelineOptions = {}) {
    this.options = options;
    this.instruments = new Instruments(options);
    // Push readers export on a timer: their SDK is built now, not at a first scrape.
    if ((options.push?.length ?? 0) > 0) void this.sdk;
  }

  /** The package's own metrics of this process. */
  localMetrics(): readonly OwnMetric[] {
    return this.instruments.all;
  }

  /**
   * Makes the scrape serve the package's metrics from `source` (the cluster's total, for a
   * cluster worker) instead of this process's; undefined goes back to this process's.
   */
  setOwnMetricsSource(source: (() => Promise<readonly OwnMetric[]>) | undefined): void {
    this.ownSource = source;
  }

  /** Collects and exports once through every push reader (the final export at shutdown). */
  async flushPush(): Promise<void> {
    await Promise.all((this.built?.pushReaders ?? []).map((reader) => reader.forceFlush()));
  }

  private get sdk(): Sdk {
    return (this.built ??= load
      .sdk()
      .buildSdk(this.options, this.startTime, () => this.instruments.all));
  }

  /** The pull reader; `reader.collect()` returns every metric as OTel data. */
  get reader(): MetricReader {
    return this.sdk.reader;
  }

  /** The pipeline's MeterProvider: instruments created from it are served by the route too. */
  get meterProvider(): MeterProvider {
    return this.sdk.meterProvider;
  }

  /** The resource shown on `target_info`. */
  get resource(): Resource {
    return this.sdk.resource;
  }

  /**
   * Loads the scrape's serializer now, ahead of a first scrape (a cluster worker, in an idle turn
   * after joining: its first scrape then does not load it in the middle of the cluster's total).
   */
  prepareScrape(): void {
    void this.serializer;
  }

  private get serializer(): PrometheusTextSerializer {
    return (this.textSerializer ??= new (load.serializer().PrometheusTextSerializer)({
      withoutTargetInfo: this.options.withoutTargetInfo ?? false,
      withoutScopeInfo: this.options.withoutScopeInfo ?? true,
    }));
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
    const spare = this.spare;
    this.spare = undefined;
    const sdk = this.built ?? this.sdkUnlessUnneeded();
    if (sdk === undefined) {
      // Nothing has asked for the SDK (its provider, a push reader), so no instrument records
      // through it: the package's own series are the whole exposition, and the SDK stays unloaded.
      const metrics = this.ownSource ? await this.ownSource() : this.instruments.all;
      const own = { scope: OWN_SCOPE, metrics, startTime: this.startTime };
      const resource = { attributes: this.lightAttributes ?? {} };
      return this.serializer.serialize({ resource, scopeMetrics: [] }, own, spare, format);
    }
    // The SDK's own instruments come through the reader; the package's metrics are written
    // straight from their series (see ScopeProducer.without).
    const { producer, reader } = sdk;
    const collection = producer.without(() => reader.collect());
    const { resourceMetrics, errors } = await collection;
    for (const error of errors) diag.error('scanopy-metrics: collection error', error);
    const metrics = this.ownSource ? await this.ownSource() : producer.metrics();
    const own = { scope: producer.scope, metrics, startTime: producer.startTime };
    return this.serializer.serialize(resourceMetrics, own, spare, format);
  }

  /**
   * The SDK, if the scrape needs it: only for the resource, when its attributes cannot be made
   * without it (see resource.ts).
   */
  private sdkUnlessUnneeded(): Sdk | undefined {
    this.lightAttributes ??= resourceAttributes(this.options.resourceAttributes ?? {});
    return this.lightAttributes === undefined ? this.sdk : undefined;
  }

  shutdown(): Promise<void> {
    // Never built: there is nothing to shut down.
    return this.built?.meterProvider.shutdown() ?? Promise.resolve();
  }
}
