// The exposition in the negotiated format (text 0.0.4, its UTF-8 variants, OpenMetrics 1.0.0),
// written straight from the series into a reused buffer.
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { diag } from '../diagnostics/diag';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer';
import { formatKey, PROMETHEUS_TEXT, type ExpositionFormat } from './format';
import { labelText, type LabelEntry } from './label-text';
import {
  escapeLabelValue,
  labelName,
  metricName,
  quotedIfNeeded,
  unitWord,
  type EscapingScheme,
} from './names';
import { openMetricsFloat, seconds } from './numbers';
import type { Counter } from '../series/counter';
import type { Gauge } from '../series/gauge';
import { Histogram, type Exemplar } from '../series/histogram';
import type { MetricHeader } from '../series/metric-header';
import { GAUGE_POINTS, HISTOGRAM_POINTS, SUM_POINTS } from '../series/data-kinds';

/**
 * What the exposition reads of a collection: the resource's attributes and the scopes (a reader's
 * ResourceMetrics, or the package's series alone when no SDK is built).
 */
export interface Collection {
  resource: { attributes: Attributes };
  scopeMetrics: ResourceMetrics['scopeMetrics'];
}
import { OVERFLOW_ATTRIBUTES } from '../series/series-map';

/** Options of PrometheusTextSerializer, as PrometheusSerializer names them. */
export interface SerializerOptions {
  withoutScopeInfo?: boolean;
  withoutTargetInfo?: boolean;
  /** Longest stretch of serialization between two turns of the event loop. Default 4 ms. */
  sliceMs?: number;
}

/** The package's own metrics, written from their live series. */
export interface OwnScope {
  scope: InstrumentationScope;
  metrics: readonly (Counter | Gauge | Histogram)[];
  /** When their cumulative values started (OpenMetrics' `_created`). */
  startTime?: HrTime;
}

const NO_REGISTERED_METRICS = '# no registered metrics';
const EOF_LINE = '# EOF\n';
/** How many data points are written between two looks at the clock. */
const CHECK_EVERY = 64;

const encode = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const COMMA = encode(',');
const CLOSE = encode('} ');
const NEWLINE = encode('\n');
const INF_BUCKET = encode('le="+Inf"} ');
/** An explicit Infinity boundary: same text, told apart by identity. */
const INF_BUCKET_BOUND = encode('le="+Inf"} ');
const EXEMPLAR_OPEN = encode(' # {trace_id="');
const EXEMPLAR_SPAN = encode('",span_id="');
const EXEMPLAR_CLOSE = encode('"} ');
const SPACE = encode(' ');

/** HELP text as the text format escapes it (backslash, new line). */
function escapeHelp(str: string): string {
  return str.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** HELP text as OpenMetrics escapes it (backslash, new line, double quote). */
function escapeOpenMetricsHelp(str: string): string {
  return escapeHelp(str).replace(/"/g, '\\"');
}

function typeName(data: MetricHeader): string {
  switch (data.dataPointType) {
    case SUM_POINTS:
      return data.isMonotonic === true ? 'counter' : 'gauge';
    case GAUGE_POINTS:
      return 'gauge';
    case HISTOGRAM_POINTS:
      return 'histogram';
    default:
      return 'untyped';
  }
}

/** The Prometheus name of a metric for `scheme` (`_total` added to counters), or none. */
function prometheusName(data: MetricHeader, scheme: EscapingScheme): string | undefined {
  let name = metricName(data.descriptor.name, scheme);
  if (name === '' || name === '_') {
    diag.error(`Normalization for metric "${data.descriptor.name}" resulted in an invalid name`);
    return undefined;
  }
  if (!name.endsWith('_total') && data.dataPointType === SUM_POINTS && data.isMonotonic === true) {
    name += '_total';
  }
  return name;
}

/** The encoded beginnings of one series name: before a label block, and with no labels. */
interface Head {
  open: Uint8Array;
  bare: Uint8Array;
}

/** `name{` / `name `, or for a name outside the legacy charset `{"name",` / `{"name"} `. */
function head(name: string, scheme: EscapingScheme): Head {
  const written = scheme === 'allow-utf-8' ? quotedIfNeeded(name, false) : name;
  if (written === name) return { open: encode(`${name}{`), bare: encode(`${name} `) };
  return { open: encode(`{${written},`), bare: encode(`{${written}} `) };
}

/** One metric of a family, and the scope labels of its series. */
type Member =
  | { own: false; data: MetricData; scope: Scope }
  | { own: true; metric: Counter | Gauge | Histogram; scope: Scope };

/** Metrics that share a Prometheus name: one family, one header, their series together. */
interface Family {
  name: string;
  header: MetricHeader;
  members: Member[];
}

/** A scope's labels (`otel_scope_name`, ...), and the key its label texts are cached under. */
interface Scope {
  entries: readonly LabelEntry[];
  key: string;
}

const NO_SCOPE: Scope = { entries: [], key: '' };

/**
 * The label texts of one naming scheme: the SDK's series' by attributes object, and for the
 * package's own series the encoded `name="value"` of each label value (see compose).
 */
interface LabelCaches {
  scheme: EscapingScheme;
  labels: WeakMap<Attributes, Uint8Array>;
  scoped: WeakMap<Attributes, { scope: string; bytes: Uint8Array }>;
  fragments: Map<string, Map<AttributeValue | undefined, Uint8Array>>;
  /** The encoded scope labels, by scope key. */
  scopes: Map<string, Uint8Array>;
}

function valueText(value: AttributeValue | undefined = ''): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Writes the exposition in the negotiated format: the Prometheus text format 0.0.4 exactly as
 * OTel's `PrometheusSerializer` does (a test compares the two byte for byte, except where
 * PrometheusSerializer writes what Prometheus rejects: label names with a leading digit, repeated
 * label names), its UTF-8 variants, or OpenMetrics 1.0.0. One walk over the series serves every
 * format, fast enough for large scrapes and without stalling the service:
 *
 * - the label text of an SDK series (`method="GET",path="/x"`) is encoded once per attributes
 *   object and naming scheme and cached in a WeakMap (the SDK keeps one attributes object per
 *   series); the package's own series, which can be tens of thousands, are put together from the
 *   encoded `name="value"` of each label value (a few hundred), so later scrapes only copy bytes
 *   and write numbers;
 * - the text goes into one growing Buffer, not into a string built by concatenation, which for a
 *   10,000-series scrape spends most of its time in garbage collection;
 * - the work is cut into slices of at most `sliceMs`, with a turn of the event loop between them,
 *   so requests keep being served during a scrape of any size.
 */
export class PrometheusTextSerializer {
  private readonly caches = new Map<EscapingScheme, LabelCaches>();
  /** Where the label text of one own series is put together. */
  private readonly ownBlock = new ByteWriter(1024);
  private readonly bucketLabels = new Map<
    string,
    WeakMap<readonly number[], readonly Uint8Array[]>
  >();
  private readonly withoutScopeInfo: boolean;
  private readonly withoutTargetInfo: boolean;
  private readonly sliceMs: number;
  /** Size of the previous scrape of each format, so the next one rarely has to grow its buffer. */
  private readonly lastSize = new Map<string, number>();

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
    resourceMetrics: Collection,
    own?: OwnScope,
    reuse?: Buffer,
    format: ExpositionFormat = PROMETHEUS_TEXT,
  ): Promise<{ bytes: Buffer; buffer: Buffer }> {
    const key = formatKey(format);
    const size = this.lastSize.get(key) ?? firstSize(own);
    const out = new ByteWriter(reuse !== undefined && reuse.length >= size ? reuse : size);
    const om = format.syntax === 'openmetrics';
    const scheme = format.escaping;
    const caches = this.cachesFor(scheme);
    out.text(this.resource(resourceMetrics.resource, format));
    const slices = new Slices(this.sliceMs);
    const families = this.families(resourceMetrics, own, scheme);
    const created = own?.startTime === undefined ? undefined : seconds(own.startTime);
    for (const family of families) {
      const { name, header } = family;
      this.header(out, family, format);
      const histogram = header.dataPointType === HISTOGRAM_POINTS;
      const counter = om && header.dataPointType === SUM_POINTS && header.isMonotonic === true;
      const createdHead = counter
        ? head(`${name.slice(0, -'_total'.length)}_created`, scheme)
        : undefined;
      const lines = histogram ? new HistogramLines(name, scheme, om) : undefined;
      const h = head(name, scheme);
      for (const member of family.members) {
        const scope = member.scope;
        if (member.own) {
          const metric = member.metric;
          const into = this.ownBlock;
          const composable = this.composable(metric, scope, scheme);
          const scopeBytes = scope.entries.length > 0 ? this.scopeBytes(caches, scope) : undefined;
          if (metric instanceof Histogram) {
            const les = this.leLabels(metric.boundaries, om);
            for (const s of metric.liveSeries()) {
              let block: Uint8Array;
              let length: number;
              if (composable) {
                this.compose(into, caches, s.attributes, scopeBytes);
                block = into.buffer;
                length = into.size;
              } else {
                block = this.block(caches, s.attributes, scope);
                length = block.length;
              }
              const exemplars = om ? s.exemplars : undefined;
              lines!.write(out, block, les, s.counts, s.count, s.sum, exemplars, length);
              if (om && created !== undefined) lines!.created(out, block, created, length);
              if (slices.due()) await slices.next();
            }
          } else {
            for (const s of metric.liveSeries()) {
              let block: Uint8Array;
              let length: number;
              if (composable) {
                this.compose(into, caches, s.attributes, scopeBytes);
                block = into.buffer;
                length = into.size;
              } else {
                block = this.block(caches, s.attributes, scope);
                length = block.length;
              }
              writeSample(out, h, block, s.value, length);
              if (createdHead !== undefined && created !== undefined) {
                writeHead(out, createdHead, block, length);
                out.text(created);
                out.bytes(NEWLINE);
              }
              if (slices.due()) await slices.next();
            }
          }
          continue;
        }
        const data = member.data;
        if (data.dataPointType === HISTOGRAM_POINTS) {
          for (const point of data.dataPoints) {
            const { buckets, count, sum } = point.value;
            const block = this.block(caches, point.attributes, scope);
            lines!.write(
              out,
              block,
              this.leLabels(buckets.boundaries, om),
              buckets.counts,
              count,
              sum,
            );
            if (om) lines!.created(out, block, seconds(point.startTime));
            if (slices.due()) await slices.next();
          }
        } else if (data.dataPointType === SUM_POINTS || data.dataPointType === GAUGE_POINTS) {
          for (const point of data.dataPoints) {
            const block = this.block(caches, point.attributes, scope);
            writeSample(out, h, block, point.value);
            if (createdHead !== undefined) {
              writeHead(out, createdHead, block);
              out.text(seconds(point.startTime));
              out.bytes(NEWLINE);
            }
            if (slices.due()) await slices.next();
          }
        }
      }
    }
    if (om) out.text(EOF_LINE);
    else if (families.length === 0) out.text(NO_REGISTERED_METRICS);
    const bytes = out.finish();
    this.lastSize.set(key, bytes.length + 1024);
    return { bytes, buffer: out.buffer };
  }

  /**
   * The metrics grouped by Prometheus name, in order of first appearance: two metrics that get
   * the same name (`a.b` and `a_b`, or an SDK instrument named like one of the package's) must
   * not repeat a `# TYPE`, which Prometheus and OpenMetrics parsers refuse. Metrics of the same
   * type share one family; one of another type is left out, with an error on the diagnostic log.
   * The package's own metrics are named first, so that they are never the ones left out.
   */
  private families(
    resourceMetrics: Collection,
    own: OwnScope | undefined,
    scheme: EscapingScheme,
  ): Family[] {
    const byName = new Map<string, Family>();
    // The package's own families, reserved before the SDK's but written after them, as before.
    const ownFamilies = new Map<string, Family>();
    if (own !== undefined) {
      const scope = this.scopeLabels(own.scope);
      for (const metric of own.metrics) {
        const header = metric.header();
        const name = prometheusName(header, scheme);
        if (name === undefined) continue;
        const member: Member = { own: true, metric, scope };
        const family = ownFamilies.get(name);
        if (family === undefined) ownFamilies.set(name, { name, header, members: [member] });
        else family.members.push(member);
      }
    }
    const add = (header: MetricHeader, member: Member): void => {
      const name = prometheusName(header, scheme);
      if (name === undefined) return;
      const family = byName.get(name) ?? ownFamilies.get(name);
      if (family === undefined) {
        byName.set(name, { name, header, members: [member] });
      } else if (typeName(family.header) === typeName(header)) {
        family.members.push(member);
      } else {
        diag.error(
          `scanopy-metrics: metric "${header.descriptor.name}" is named ${name} in the exposition, like a metric of another type; it is left out`,
        );
      }
    };
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope = this.scopeLabels(scopeMetrics.scope);
      for (const data of scopeMetrics.metrics) {
        if (
          data.dataPointType !== HISTOGRAM_POINTS &&
          data.dataPointType !== SUM_POINTS &&
          data.dataPointType !== GAUGE_POINTS
        ) {
          diag.error(
            `Unrecognizable DataPointType: ${data.dataPointType} for metric "${data.descriptor.name}"`,
          );
          continue;
        }
        add(data, { own: false, data, scope });
      }
    }
    for (const [name, family] of ownFamilies) if (!byName.has(name)) byName.set(name, family);
    return [...byName.values()];
  }

  /** `# HELP`, `# TYPE` and, where the name ends with its unit, `# UNIT`. */
  private header(out: ByteWriter, family: Family, format: ExpositionFormat): void {
    const { name, header } = family;
    const unit = header.descriptor.unit;
    const written = format.escaping === 'allow-utf-8' ? quotedIfNeeded(name, false) : name;
    if (format.syntax === 'prometheus') {
      // As PrometheusSerializer writes it (the text format has no UNIT; parsers skip the line).
      const unitLine = unit ? `\n# UNIT ${written} ${escapeHelp(unit)}` : '';
      const description = escapeHelp(header.descriptor.description || 'description missing');
      out.text(
        `# HELP ${written} ${description}${unitLine}\n# TYPE ${written} ${typeName(header)}\n`,
      );
      return;
    }
    // OpenMetrics: a counter's family is named without `_total`; its samples keep it.
    const type = typeName(header);
    const familyName = type === 'counter' ? name.slice(0, -'_total'.length) : name;
    const familyWritten =
      format.escaping === 'allow-utf-8' ? quotedIfNeeded(familyName, false) : familyName;
    const description = escapeOpenMetricsHelp(
      header.descriptor.description || 'description missing',
    );
    let text = `# HELP ${familyWritten} ${description}\n# TYPE ${familyWritten} ${type === 'untyped' ? 'unknown' : type}\n`;
    // OpenMetrics requires a family's unit to be its name's suffix; the name stays the same in
    // every format, so a unit the name does not end with is left out rather than appended.
    const word = unitWord(unit);
    if (word !== '' && familyName.endsWith(`_${word}`)) text += `# UNIT ${familyWritten} ${word}\n`;
    out.text(text);
  }

  private cachesFor(scheme: EscapingScheme): LabelCaches {
    let caches = this.caches.get(scheme);
    if (caches === undefined) {
      caches = {
        scheme,
        labels: new WeakMap(),
        scoped: new WeakMap(),
        fragments: new Map(),
        scopes: new Map(),
      };
      this.caches.set(scheme, caches);
    }
    return caches;
  }

  /**
   * Whether the labels of `metric`'s series can be put together from per-value fragments: when no
   * two of its label names (its own, the overflow label, the scope's) are written alike, so that
   * no merge is needed (labelText). True of the package's metrics, whose label names are legacy
   * names; a `false` falls back to one cached text per series.
   */
  private composable(
    metric: Counter | Gauge | Histogram,
    scope: Scope,
    scheme: EscapingScheme,
  ): boolean {
    const keys = [
      ...metric.definition.labelNames,
      ...Object.keys(OVERFLOW_ATTRIBUTES),
      ...scope.entries.map((e) => e[0]),
    ];
    if (keys.includes('')) return false;
    return new Set(keys.map((k) => labelName(k, scheme))).size === keys.length;
  }

  /**
   * The label text of one of the package's own series, put together in `into` from the encoded
   * `name="value"` of each of its labels. Those are cached by label value, not by series: a metric
   * with 10,000 series has a few hundred distinct label values (routes, methods, statuses), so the
   * cache stays small where one encoded text per series held more memory than the series.
   */
  private compose(
    into: ByteWriter,
    caches: LabelCaches,
    attributes: Attributes,
    scope: Uint8Array | undefined,
  ): void {
    into.reset();
    let first = true;
    for (const key in attributes) {
      if (!first) into.bytes(COMMA);
      first = false;
      into.bytes(this.fragment(caches, key, attributes[key]));
    }
    if (scope !== undefined) {
      if (!first) into.bytes(COMMA);
      into.bytes(scope);
    }
  }

  private fragment(
    caches: LabelCaches,
    key: string,
    value: AttributeValue | undefined,
  ): Uint8Array {
    let values = caches.fragments.get(key);
    if (values === undefined) {
      values = new Map();
      caches.fragments.set(key, values);
    }
    let bytes = values.get(value);
    if (bytes === undefined) {
      const scheme = caches.scheme;
      const name = labelName(key, scheme);
      const written = scheme === 'allow-utf-8' ? quotedIfNeeded(name, true) : name;
      bytes = encode(`${written}="${escapeLabelValue(valueText(value))}"`);
      values.set(value, bytes);
    }
    return bytes;
  }

  private scopeBytes(caches: LabelCaches, scope: Scope): Uint8Array {
    let bytes = caches.scopes.get(scope.key);
    if (bytes === undefined) {
      bytes = encode(labelText(scope.entries, caches.scheme));
      caches.scopes.set(scope.key, bytes);
    }
    return bytes;
  }

  /** What stands between the braces of a series: its labels, then the scope's. */
  private block(caches: LabelCaches, attributes: Attributes, scope: Scope): Uint8Array {
    const scheme = caches.scheme;
    if (scope.entries.length === 0) {
      let labels = caches.labels.get(attributes);
      if (labels === undefined) {
        labels = encode(labelText(Object.entries(attributes), scheme));
        caches.labels.set(attributes, labels);
      }
      return labels;
    }
    // With scope labels on, the joined text is cached too, for the scope it was made for.
    const scoped = caches.scoped.get(attributes);
    if (scoped?.scope === scope.key) return scoped.bytes;
    const bytes = encode(labelText([...Object.entries(attributes), ...scope.entries], scheme));
    caches.scoped.set(attributes, { scope: scope.key, bytes });
    return bytes;
  }

  private leLabels(boundaries: readonly number[], om: boolean): readonly Uint8Array[] {
    const key = om ? 'om' : 'text';
    let byBoundaries = this.bucketLabels.get(key);
    if (byBoundaries === undefined) {
      byBoundaries = new WeakMap();
      this.bucketLabels.set(key, byBoundaries);
    }
    let les = byBoundaries.get(boundaries);
    if (les === undefined) {
      les = boundaries.map((b) =>
        b === Infinity
          ? INF_BUCKET_BOUND
          : encode(`le="${om ? openMetricsFloat(b) : String(b)}"} `),
      );
      byBoundaries.set(boundaries, les);
    }
    return les;
  }

  private scopeLabels(scope: InstrumentationScope): Scope {
    if (this.withoutScopeInfo) return NO_SCOPE;
    const entries: LabelEntry[] = [['otel.scope.name', scope.name]];
    if (scope.schemaUrl) entries.push(['otel.scope.schema_url', scope.schemaUrl]);
    if (scope.version) entries.push(['otel.scope.version', scope.version]);
    return { entries, key: JSON.stringify(entries) };
  }

  private resource(resource: Collection['resource'], format: ExpositionFormat): string {
    if (this.withoutTargetInfo) return '';
    const labels = labelText(Object.entries(resource.attributes), format.escaping);
    const series = labels.length > 0 ? `target_info{${labels}}` : 'target_info';
    // OpenMetrics has an info type: family `target`, sample `target_info`.
    if (format.syntax === 'openmetrics') {
      return `# HELP target Target metadata\n# TYPE target info\n${series} 1\n`;
    }
    return `# HELP target_info Target metadata\n# TYPE target_info gauge\n${series} 1\n`;
  }
}

/** One sample line: `name{block} value`, of the first `length` bytes of `block`. */
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

/**
 * The lines of one histogram series. Text format: `_count`, `_sum`, then the cumulative
 * `_bucket`s, as PrometheusSerializer writes them. OpenMetrics: the buckets (with their
 * exemplars), `_count`, `_sum`, then `_created`.
 */
class HistogramLines {
  private readonly count: Head;
  private readonly sum: Head;
  private readonly createdHead: Head;
  private readonly bucket: Uint8Array;

  constructor(
    name: string,
    scheme: EscapingScheme,
    private readonly om: boolean,
  ) {
    this.count = head(`${name}_count`, scheme);
    this.sum = head(`${name}_sum`, scheme);
    this.createdHead = head(`${name}_created`, scheme);
    this.bucket = head(`${name}_bucket`, scheme).open;
  }

  /**
   * `les[i]` is the `le="…"} ` text of boundary i; counts has one more entry, for +Inf. The labels
   * are the first `length` bytes of `block`.
   */
  write(
    out: ByteWriter,
    block: Uint8Array,
    les: readonly Uint8Array[],
    counts: readonly number[],
    count: number,
    sum: number | undefined,
    exemplars?: readonly (Exemplar | undefined)[],
    length = block.length,
  ): void {
    if (this.om) {
      this.buckets(out, block, length, les, counts, exemplars);
      writeSample(out, this.count, block, count, length);
      if (sum != null) writeSample(out, this.sum, block, sum, length);
      return;
    }
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
      this.bucketLine(out, block, length, le ?? INF_BUCKET, cumulative);
      out.bytes(NEWLINE);
    }
  }

  created(out: ByteWriter, block: Uint8Array, created: string, length = block.length): void {
    writeHead(out, this.createdHead, block, length);
    out.text(created);
    out.bytes(NEWLINE);
  }

  /** OpenMetrics buckets: every finite boundary, then +Inf with the total. */
  private buckets(
    out: ByteWriter,
    block: Uint8Array,
    length: number,
    les: readonly Uint8Array[],
    counts: readonly number[],
    exemplars?: readonly (Exemplar | undefined)[],
  ): void {
    let cumulative = 0;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i];
      const le = les[i] as Uint8Array | undefined;
      // An explicit Infinity boundary's count joins the +Inf bucket, written last.
      if (le === INF_BUCKET_BOUND) continue;
      if (le === undefined && i < counts.length - 1) continue;
      this.bucketLine(out, block, length, le ?? INF_BUCKET, cumulative);
      const exemplar = exemplars?.[i];
      if (exemplar !== undefined) writeExemplar(out, exemplar);
      out.bytes(NEWLINE);
    }
  }

  private bucketLine(
    out: ByteWriter,
    block: Uint8Array,
    length: number,
    le: Uint8Array,
    cumulative: number,
  ): void {
    out.bytes(this.bucket);
    if (length > 0) {
      writeBlock(out, block, length);
      out.bytes(COMMA);
    }
    out.bytes(le);
    out.number(cumulative);
  }
}

/** ` # {trace_id="…",span_id="…"} value timestamp` */
function writeExemplar(out: ByteWriter, exemplar: Exemplar): void {
  out.bytes(EXEMPLAR_OPEN);
  out.text(exemplar.traceId);
  out.bytes(EXEMPLAR_SPAN);
  out.text(exemplar.spanId);
  out.bytes(EXEMPLAR_CLOSE);
  out.number(exemplar.value);
  out.bytes(SPACE);
  out.text(millisecondsAsSeconds(exemplar.timeMs));
}

function millisecondsAsSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const rest = Math.round(ms - whole * 1000);
  return `${whole}.${String(rest).padStart(3, '0')}`;
}

/** Bytes a line of the exposition takes, about: a little more than the typical Koa series'. */
const LINE_BYTES = 112;

/**
 * The buffer for a format's first scrape, from the package's series: grown by doubling from a
 * small one instead, a 13 MB exposition would copy itself eight times, the last 8 MB in one go
 * (into fresh pages), a block of its own. The pages of an unwritten end are never touched.
 */
function firstSize(own: OwnScope | undefined): number {
  let lines = 0;
  for (const metric of own?.metrics ?? []) {
    const perSeries = metric instanceof Histogram ? metric.boundaries.length + 3 : 1;
    lines += perSeries * metric.seriesCount();
  }
  return Math.max(64 * 1024, lines * LINE_BYTES);
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

/** `name{block} `, or `name ` when the block is empty (of the first `length` bytes of `block`). */
function writeHead(out: ByteWriter, h: Head, block: Uint8Array, length = block.length): void {
  if (length === 0) {
    out.bytes(h.bare);
    return;
  }
  out.bytes(h.open);
  writeBlock(out, block, length);
  out.bytes(CLOSE);
}

function writeBlock(out: ByteWriter, block: Uint8Array, length: number): void {
  if (length === block.length) out.bytes(block);
  else out.range(block, 0, length);
}
