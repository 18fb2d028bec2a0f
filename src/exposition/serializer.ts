// The Prometheus text exposition, written straight from the series into a reused buffer.
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer';
import type { Counter } from '../series/counter';
import { Histogram } from '../series/histogram';
import type { MetricHeader } from '../series/metric-header';

/** Options of PrometheusTextSerializer, as PrometheusSerializer names them. */
export interface SerializerOptions {
  withoutScopeInfo?: boolean;
  withoutTargetInfo?: boolean;
  /** Longest stretch of serialization between two turns of the event loop. Default 4 ms. */
  sliceMs?: number;
}

const NO_REGISTERED_METRICS = '# no registered metrics';
/** How many data points are written between two looks at the clock. */
const CHECK_EVERY = 64;

const encode = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const COMMA = encode(',');
const CLOSE = encode('} ');
const NEWLINE = encode('\n');
const INF_BUCKET = encode('le="+Inf"} ');
/** An explicit Infinity boundary: same text, told apart by identity. */
const INF_BUCKET_BOUND = encode('le="+Inf"} ');

function escapeString(str: string): string {
  return str.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeAttributeValue(value: AttributeValue | undefined = ''): string {
  const str = typeof value === 'string' ? value : JSON.stringify(value);
  return escapeString(str).replace(/"/g, '\\"');
}

function sanitizeName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

/** `key="value",...` in the attributes' own order, as PrometheusSerializer writes them. */
function labelText(attributes: Attributes): string {
  let text = '';
  for (const [key, value] of Object.entries(attributes)) {
    text += `${text.length > 0 ? ',' : ''}${sanitizeName(key)}="${escapeAttributeValue(value)}"`;
  }
  return text;
}

/** The package's own metrics, written from their live series. */
export interface OwnScope {
  scope: InstrumentationScope;
  metrics: readonly (Counter | Histogram)[];
}

function metricName(data: MetricHeader): string | undefined {
  let name = sanitizeName(escapeString(data.descriptor.name));
  if (name === '' || name === '_') {
    diag.error(`Normalization for metric "${data.descriptor.name}" resulted in an invalid name`);
    return undefined;
  }
  if (name[0] >= '0' && name[0] <= '9') name = `_${name}`;
  if (
    !name.endsWith('_total') &&
    data.dataPointType === DataPointType.SUM &&
    data.isMonotonic === true
  ) {
    name += '_total';
  }
  return name;
}

function typeName(data: MetricHeader): string {
  switch (data.dataPointType) {
    case DataPointType.SUM:
      return data.isMonotonic === true ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      return 'untyped';
  }
}

/** The encoded beginnings of one series name: `name{` and `name ` (for a series without labels). */
interface Head {
  open: Uint8Array;
  bare: Uint8Array;
}

function head(name: string): Head {
  return { open: encode(`${name}{`), bare: encode(`${name} `) };
}

/**
 * Writes the Prometheus text format exactly as OTel's `PrometheusSerializer` does (a test compares
 * the two byte for byte), but fast enough for large scrapes and without stalling the service:
 *
 * - the label text of a series (`method="GET",path="/x"`) is encoded once per attributes object
 *   and cached in a WeakMap: the SDK and this package both keep one attributes object per series,
 *   so later scrapes only copy bytes and write numbers;
 * - the text goes into one growing Buffer, not into a string built by concatenation, which for a
 *   10,000-series scrape spends most of its time in garbage collection;
 * - the work is cut into slices of at most `sliceMs`, with a turn of the event loop between them,
 *   so requests keep being served during a scrape of any size.
 */
export class PrometheusTextSerializer {
  private readonly labels = new WeakMap<Attributes, Uint8Array>();
  private readonly scopedLabels = new WeakMap<Attributes, { scope: string; bytes: Uint8Array }>();
  private readonly bucketLabels = new WeakMap<readonly number[], readonly Uint8Array[]>();
  /** `key="value"` by label key and value, for the package's own series (see compose). */
  private readonly fragments = new Map<string, Map<AttributeValue | undefined, Uint8Array>>();
  /** Where the label text of one own series is put together. */
  private readonly ownBlock = new ByteWriter(1024);
  private readonly withoutScopeInfo: boolean;
  private readonly withoutTargetInfo: boolean;
  private readonly sliceMs: number;
  /** Size of the previous scrape, so the next one rarely has to grow its buffer. */
  private lastSize = 64 * 1024;

  constructor(options: SerializerOptions = {}) {
    this.withoutScopeInfo = options.withoutScopeInfo ?? false;
    this.withoutTargetInfo = options.withoutTargetInfo ?? false;
    this.sliceMs = options.sliceMs ?? 4;
  }

  /**
   * The exposition as UTF-8 bytes: the resource's `target_info`, the scopes of `resourceMetrics`,
   * then `own`, the package's metrics read straight from their series (as they would come out of
   * their MetricProducer). `reuse` is a buffer of a previous scrape that nobody reads any more;
   * `buffer` in the result is the one written to (to be reused in turn).
   */
  async serialize(
    resourceMetrics: ResourceMetrics,
    own?: OwnScope,
    reuse?: Buffer,
  ): Promise<{ bytes: Buffer; buffer: Buffer }> {
    const out = new ByteWriter(
      reuse !== undefined && reuse.length >= this.lastSize ? reuse : this.lastSize,
    );
    out.text(this.resource(resourceMetrics.resource));
    const slices = new Slices(this.sliceMs);
    let wroteMetric = false;
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope = this.scopeLabels(scopeMetrics.scope);
      for (const data of scopeMetrics.metrics) {
        const name = this.header(out, data);
        if (name === undefined) continue;
        wroteMetric = true;
        if (data.dataPointType === DataPointType.HISTOGRAM) {
          const lines = new HistogramLines(name);
          for (const point of data.dataPoints) {
            const { buckets, count, sum } = point.value;
            const block = this.block(point.attributes, scope);
            lines.write(out, block, this.leLabels(buckets.boundaries), buckets.counts, count, sum);
            if (slices.due()) await slices.next();
          }
        } else if (
          data.dataPointType === DataPointType.SUM ||
          data.dataPointType === DataPointType.GAUGE
        ) {
          const h = head(name);
          for (const point of data.dataPoints) {
            writeSample(out, h, this.block(point.attributes, scope), point.value);
            if (slices.due()) await slices.next();
          }
        } else {
          diag.error(`Unrecognizable DataPointType: ${data.dataPointType} for metric "${name}"`);
        }
      }
    }
    if (own !== undefined) {
      const scope = this.scopeLabels(own.scope);
      for (const metric of own.metrics) {
        const name = this.header(out, metric.header());
        if (name === undefined) continue;
        wroteMetric = true;
        const block = this.ownBlock;
        const scoped = scope.length > 0 ? encode(scope) : undefined;
        if (metric instanceof Histogram) {
          const lines = new HistogramLines(name);
          const les = this.leLabels(metric.boundaries);
          for (const s of metric.liveSeries()) {
            this.compose(block, s.attributes, scoped);
            lines.write(out, block.buffer, les, s.counts, s.count, s.sum, block.size);
            if (slices.due()) await slices.next();
          }
        } else {
          const h = head(name);
          for (const s of metric.liveSeries()) {
            this.compose(block, s.attributes, scoped);
            writeSample(out, h, block.buffer, s.value, block.size);
            if (slices.due()) await slices.next();
          }
        }
      }
    }
    if (!wroteMetric) out.text(NO_REGISTERED_METRICS);
    const bytes = out.finish();
    this.lastSize = bytes.length + 1024;
    return { bytes, buffer: out.buffer };
  }

  /** `# HELP`, `# UNIT` and `# TYPE`; the metric's Prometheus name, or none if it has none. */
  private header(out: ByteWriter, data: MetricHeader): string | undefined {
    const name = metricName(data);
    if (name === undefined) return undefined;
    const unit = data.descriptor.unit
      ? `\n# UNIT ${name} ${escapeString(data.descriptor.unit)}`
      : '';
    const description = escapeString(data.descriptor.description || 'description missing');
    out.text(`# HELP ${name} ${description}${unit}\n# TYPE ${name} ${typeName(data)}\n`);
    return name;
  }

  /**
   * The label text of one of the package's own series, put together in `into` from the encoded
   * `key="value"` of each of its labels. Those are cached by label value, not by series: a metric
   * with 10,000 series has a few hundred distinct label values (routes, methods, statuses), so the
   * cache stays small where one encoded text per series held more memory than the series.
   */
  private compose(into: ByteWriter, attributes: Attributes, scope: Uint8Array | undefined): void {
    into.reset();
    let first = true;
    for (const key in attributes) {
      if (!first) into.bytes(COMMA);
      first = false;
      into.bytes(this.fragment(key, attributes[key]));
    }
    if (scope !== undefined) {
      if (!first) into.bytes(COMMA);
      into.bytes(scope);
    }
  }

  private fragment(key: string, value: AttributeValue | undefined): Uint8Array {
    let values = this.fragments.get(key);
    if (values === undefined) {
      values = new Map();
      this.fragments.set(key, values);
    }
    let bytes = values.get(value);
    if (bytes === undefined) {
      bytes = encode(`${sanitizeName(key)}="${escapeAttributeValue(value)}"`);
      values.set(value, bytes);
    }
    return bytes;
  }

  /** What stands between the braces of a series: its labels, then the scope's. */
  private block(attributes: Attributes, scope: string): Uint8Array {
    let labels = this.labels.get(attributes);
    if (labels === undefined) {
      labels = encode(labelText(attributes));
      this.labels.set(attributes, labels);
    }
    if (scope.length === 0) return labels;
    // With scope labels on, the joined text is cached too, for the scope it was made for.
    const scoped = this.scopedLabels.get(attributes);
    if (scoped?.scope === scope) return scoped.bytes;
    const bytes =
      labels.length === 0 ? encode(scope) : Buffer.concat([labels, COMMA, encode(scope)]);
    this.scopedLabels.set(attributes, { scope, bytes });
    return bytes;
  }

  private leLabels(boundaries: readonly number[]): readonly Uint8Array[] {
    let les = this.bucketLabels.get(boundaries);
    if (les === undefined) {
      les = boundaries.map((b) =>
        b === Infinity ? INF_BUCKET_BOUND : encode(`le="${String(b)}"} `),
      );
      this.bucketLabels.set(boundaries, les);
    }
    return les;
  }

  private scopeLabels(scope: InstrumentationScope): string {
    if (this.withoutScopeInfo) return '';
    const info: Attributes = { 'otel.scope.name': scope.name };
    if (scope.schemaUrl) info['otel.scope.schema_url'] = scope.schemaUrl;
    if (scope.version) info['otel.scope.version'] = scope.version;
    return labelText(info);
  }

  private resource(resource: Resource): string {
    if (this.withoutTargetInfo) return '';
    const labels = labelText(resource.attributes);
    const series = labels.length > 0 ? `target_info{${labels}}` : 'target_info';
    return `# HELP target_info Target metadata\n# TYPE target_info gauge\n${series} 1\n`;
  }
}

/** One sample line: `name{block} value`. */
function writeSample(
  out: ByteWriter,
  h: Head,
  block: Uint8Array,
  value: number,
  length = block.length,
): void {
  writeHead(out, h, block, length);
  out.number(value);
  out.bytes(NEWLINE);
}

/** The lines of one histogram series: `_count`, `_sum`, then the cumulative `_bucket`s. */
class HistogramLines {
  private readonly count: Head;
  private readonly sum: Head;
  private readonly bucket: Uint8Array;

  constructor(name: string) {
    this.count = head(`${name}_count`);
    this.sum = head(`${name}_sum`);
    this.bucket = encode(`${name}_bucket{`);
  }

  /** `les[i]` is the `le="…"} ` text of boundary i; counts has one more entry, for +Inf. */
  write(
    out: ByteWriter,
    block: Uint8Array,
    les: readonly Uint8Array[],
    counts: readonly number[],
    count: number,
    sum: number | undefined,
    length = block.length,
  ): void {
    writeSample(out, this.count, block, count, length);
    if (sum != null) writeSample(out, this.sum, block, sum, length);
    let cumulative = 0;
    let infinityDefined = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i];
      const le = les[i] as Uint8Array | undefined;
      // Mirrors PrometheusSerializer: an explicit Infinity boundary ends the buckets.
      if (le === undefined && infinityDefined) break;
      if (le === INF_BUCKET_BOUND) infinityDefined = true;
      out.bytes(this.bucket);
      if (length > 0) {
        if (length === block.length) out.bytes(block);
        else out.range(block, 0, length);
        out.bytes(COMMA);
      }
      out.bytes(le ?? INF_BUCKET);
      out.number(cumulative);
      out.bytes(NEWLINE);
    }
  }
}

/** Cuts the work into slices of at most `ms`, with a turn of the event loop between them. */
class Slices {
  private start = performance.now();
  private sinceCheck = 0;

  constructor(private readonly ms: number) {}

  /** Whether the current slice is over; looks at the clock every CHECK_EVERY data points. */
  due(): boolean {
    if (++this.sinceCheck < CHECK_EVERY) return false;
    this.sinceCheck = 0;
    return performance.now() - this.start > this.ms;
  }

  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

/** `name{block} `, or `name ` when the block is empty. */
function writeHead(out: ByteWriter, h: Head, block: Uint8Array, length: number): void {
  if (length === 0) {
    out.bytes(h.bare);
    return;
  }
  out.bytes(h.open);
  if (length === block.length) out.bytes(block);
  else out.range(block, 0, length);
  out.bytes(CLOSE);
}
