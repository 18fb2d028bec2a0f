import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer';

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

function metricName(data: MetricData): string | undefined {
  let name = sanitizeName(escapeString(data.descriptor.name));
  if (name === '' || name === '_') {
    diag.error(`Normalization for metric "${data.descriptor.name}" resulted in an invalid name`);
    return undefined;
  }
  if (name[0] >= '0' && name[0] <= '9') name = `_${name}`;
  if (!name.endsWith('_total') && data.dataPointType === DataPointType.SUM && data.isMonotonic) {
    name += '_total';
  }
  return name;
}

function typeName(data: MetricData): string {
  switch (data.dataPointType) {
    case DataPointType.SUM:
      return data.isMonotonic ? 'counter' : 'gauge';
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

export class PrometheusTextSerializer {
  private readonly labels = new WeakMap<Attributes, Uint8Array>();
  private readonly bucketLabels = new WeakMap<readonly number[], readonly Uint8Array[]>();
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

  /** The exposition as UTF-8 bytes. */
  async serialize(resourceMetrics: ResourceMetrics): Promise<Buffer> {
    const out = new ByteWriter(this.lastSize);
    out.text(this.resource(resourceMetrics.resource));
    let wroteMetric = false;
    let sliceStart = performance.now();
    let sinceCheck = 0;
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope = this.scopeLabels(scopeMetrics.scope);
      for (const data of scopeMetrics.metrics) {
        const name = metricName(data);
        if (name === undefined) continue;
        wroteMetric = true;
        const unit = data.descriptor.unit
          ? `\n# UNIT ${name} ${escapeString(data.descriptor.unit)}`
          : '';
        const description = escapeString(data.descriptor.description || 'description missing');
        out.text(`# HELP ${name} ${description}${unit}\n# TYPE ${name} ${typeName(data)}\n`);
        let write: (block: Uint8Array, value: never) => void;
        if (data.dataPointType === DataPointType.HISTOGRAM) {
          const heads = { count: head(`${name}_count`), sum: head(`${name}_sum`) };
          const bucket = encode(`${name}_bucket{`);
          write = (block, value: Histogram) => this.histogram(out, heads, bucket, block, value);
        } else if (
          data.dataPointType === DataPointType.SUM ||
          data.dataPointType === DataPointType.GAUGE
        ) {
          const h = head(name);
          write = (block, value: number) => {
            writeHead(out, h, block);
            out.number(value);
            out.bytes(NEWLINE);
          };
        } else {
          diag.error(`Unrecognizable DataPointType: ${data.dataPointType} for metric "${name}"`);
          continue;
        }
        for (const point of data.dataPoints as DataPoint<never>[]) {
          write(this.block(point.attributes, scope), point.value);
          if (++sinceCheck === CHECK_EVERY) {
            sinceCheck = 0;
            if (performance.now() - sliceStart > this.sliceMs) {
              await yieldToEventLoop();
              sliceStart = performance.now();
            }
          }
        }
      }
    }
    if (!wroteMetric) out.text(NO_REGISTERED_METRICS);
    const bytes = out.finish();
    this.lastSize = bytes.length + 1024;
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
    return labels.length === 0 ? encode(scope) : Buffer.concat([labels, COMMA, encode(scope)]);
  }

  private leLabels(boundaries: readonly number[]): readonly Uint8Array[] {
    let les = this.bucketLabels.get(boundaries);
    if (les === undefined) {
      les = boundaries.map((b) => encode(`le="${b === Infinity ? '+Inf' : String(b)}"} `));
      this.bucketLabels.set(boundaries, les);
    }
    return les;
  }

  private histogram(
    out: ByteWriter,
    heads: { count: Head; sum: Head },
    bucket: Uint8Array,
    block: Uint8Array,
    value: Histogram,
  ): void {
    writeHead(out, heads.count, block);
    out.number(value.count);
    out.bytes(NEWLINE);
    if (value.sum != null) {
      writeHead(out, heads.sum, block);
      out.number(value.sum);
      out.bytes(NEWLINE);
    }
    const boundaries = value.buckets.boundaries;
    const counts = value.buckets.counts;
    const les = this.leLabels(boundaries);
    let cumulative = 0;
    let infinityDefined = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i];
      const bound = boundaries[i];
      // Mirrors PrometheusSerializer: an explicit Infinity boundary ends the buckets.
      if (bound === undefined && infinityDefined) break;
      if (bound === Infinity) infinityDefined = true;
      out.bytes(bucket);
      if (block.length > 0) {
        out.bytes(block);
        out.bytes(COMMA);
      }
      out.bytes(bound === undefined ? INF_BUCKET : les[i]);
      out.number(cumulative);
      out.bytes(NEWLINE);
    }
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

/** `name{block} `, or `name ` when the block is empty. */
function writeHead(out: ByteWriter, h: Head, block: Uint8Array): void {
  if (block.length === 0) {
    out.bytes(h.bare);
    return;
  }
  out.bytes(h.open);
  out.bytes(block);
  out.bytes(CLOSE);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
