import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, visit, isScalar, Scalar, parse } from 'yaml';
import { HTTP_REQUEST_DURATION_SECONDS, METRIC_NAMES, type MetricName } from '../instruments';
import type { MetricView } from '../instruments';
import { PACKAGE_NAME } from '../version';
import { any, arr, bool, empty, num, obj, str, validate, type Schema } from './schema';
import { substitute } from './substitute';
import type { LogLevel, PartialSettings, SdkView } from './types';
import { LOG_LEVELS, matchesGlob, parseKeyValueList } from './values';

const INSTRUMENT_TYPES = [
  'counter',
  'gauge',
  'histogram',
  'observable_counter',
  'observable_gauge',
  'observable_up_down_counter',
  'up_down_counter',
] as const;

const cardinality = num({ integer: true, min: 1 });
const stringList = arr(str());

const VIEW: Schema = obj(
  {
    selector: obj({
      instrument_name: str(),
      instrument_type: str(INSTRUMENT_TYPES),
      unit: str(),
      meter_name: str(),
      meter_version: str(),
      meter_schema_url: str(),
    }),
    stream: obj({
      name: str(),
      description: str(),
      aggregation: obj({
        default: empty,
        drop: empty,
        sum: empty,
        last_value: empty,
        explicit_bucket_histogram: obj({ boundaries: arr(num()), record_min_max: bool }),
      }),
      aggregation_cardinality_limit: cardinality,
      attribute_keys: obj({ included: stringList, excluded: stringList }),
    }),
  },
  { required: ['selector', 'stream'] },
);

/** The parts of the OTel declarative configuration (file_format 1.0) this package reads. */
const FILE: Schema = obj(
  {
    file_format: str(),
    disabled: bool,
    log_level: str(LOG_LEVELS),
    resource: obj(
      {
        attributes: arr(obj({ name: str(), value: any, type: str() }, { required: ['name'] })),
        attributes_list: str(),
        schema_url: str(),
      },
      { ignored: ['detection/development'] },
    ),
    meter_provider: obj(
      {
        readers: arr(
          obj({
            pull: obj(
              {
                exporter: obj({
                  'prometheus/development': obj(
                    { without_scope_info: bool, without_target_info: bool },
                    // The route is served on the service's own port, not on a port of its own.
                    { ignored: ['host', 'port'] },
                  ),
                }),
                cardinality_limits: obj({
                  default: cardinality,
                  counter: cardinality,
                  histogram: cardinality,
                  gauge: cardinality,
                  up_down_counter: cardinality,
                  observable_counter: cardinality,
                  observable_gauge: cardinality,
                  observable_up_down_counter: cardinality,
                }),
              },
              { required: ['exporter'] },
            ),
          }),
        ),
        views: arr(VIEW),
      },
      { ignored: ['exemplar_filter', 'meter_configurator/development'] },
    ),
    'instrumentation/development': obj(
      {
        js: obj(
          {
            [PACKAGE_NAME]: obj({
              path: str(),
              entity_type_key: str(),
              auth_failures_per_minute: num({ integer: true, min: 0 }),
              events: obj({ entities: stringList, operations: stringList }),
            }),
          },
          { open: true },
        ),
      },
      { open: true },
    ),
  },
  {
    required: ['file_format'],
    ignored: ['tracer_provider', 'logger_provider', 'propagator', 'attribute_limits'],
  },
);

/** What YAML makes of a substituted plain value, if that is a scalar; else the text itself. */
function typedScalar(text: string): unknown {
  try {
    const typed: unknown = parse(text);
    return isScalar(typed) || typeof typed !== 'object' ? typed : text;
  } catch {
    // `@team`, `*x`, `[beta`: not YAML on their own, and fine as strings.
    return text;
  }
}

/** Parses YAML and substitutes `${VAR:-default}` in scalar values, never in keys. */
function parseWithSubstitution(
  text: string,
  env: NodeJS.ProcessEnv,
): { data: unknown; problems: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = ` (line ${lines.linePos(e.pos[0]).line})`;
    return { data: undefined, problems: [`invalid YAML${line}: ${e.message.split('\n')[0]}`] };
  }
  const problems: string[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = substitute(node.value, env);
      if ('error' in result) {
        problems.push(result.error);
        return;
      }
      // A plain scalar takes the type of what was substituted (`${X:-false}` is a boolean);
      // a quoted one stays a string.
      if (node.type === Scalar.PLAIN) {
        node.value = typedScalar(result.value);
      } else {
        node.value = result.value;
      }
    },
  });
  return { data: doc.toJS(), problems };
}

const LABELS: Record<MetricName, readonly string[]> = {
  http_requests_total: ['method', 'path', 'status', 'entity_type'],
  http_request_duration_seconds: ['method', 'path'],
  scanopy_events_total: ['entity', 'operation'],
};

interface RawView {
  selector: {
    instrument_name?: string;
    instrument_type?: string;
    unit?: string;
    meter_name?: string;
    meter_version?: string;
  };
  stream: {
    name?: string;
    description?: string;
    aggregation?: Record<string, { boundaries?: number[] } | null>;
    aggregation_cardinality_limit?: number;
    attribute_keys?: { included?: string[]; excluded?: string[] };
  };
}

function matchesOwnMetric(selector: RawView['selector'], metric: MetricName): boolean {
  const type = metric === HTTP_REQUEST_DURATION_SECONDS ? 'histogram' : 'counter';
  const unit = metric === HTTP_REQUEST_DURATION_SECONDS ? 's' : '';
  return (
    (selector.instrument_name === undefined || matchesGlob(selector.instrument_name, metric)) &&
    (selector.instrument_type === undefined || selector.instrument_type === type) &&
    (selector.unit === undefined || selector.unit === unit) &&
    (selector.meter_name === undefined || matchesGlob(selector.meter_name, PACKAGE_NAME))
  );
}

/** Applies the views to the package's own metrics, and keeps them all for the SDK's instruments. */
function readViews(
  views: RawView[],
  problems: string[],
): { own: Partial<Record<MetricName, MetricView>>; sdk: SdkView[] } {
  const own: Partial<Record<MetricName, MetricView>> = {};
  const sdk: SdkView[] = [];
  views.forEach((view, i) => {
    const at = `meter_provider.views[${i}]`;
    const { selector, stream } = view;
    const aggregation = stream.aggregation ?? {};
    const boundaries = aggregation.explicit_bucket_histogram?.boundaries;
    if (boundaries && boundaries.some((b, j) => j > 0 && b <= boundaries[j - 1])) {
      problems.push(
        `${at}.stream.aggregation.explicit_bucket_histogram.boundaries: expected strictly increasing numbers, got [${boundaries.join(', ')}]`,
      );
      return;
    }
    const keys = stream.attribute_keys;
    const keep = (labels: readonly string[]): string[] | undefined =>
      keys === undefined
        ? undefined
        : labels.filter(
            (l) =>
              (keys.included === undefined || keys.included.some((p) => matchesGlob(p, l))) &&
              !(keys.excluded ?? []).some((p) => matchesGlob(p, l)),
          );
    for (const metric of METRIC_NAMES) {
      if (!matchesOwnMetric(selector, metric)) continue;
      for (const unsupported of ['name', 'description'] as const) {
        if (stream[unsupported] !== undefined) {
          problems.push(`${at}.stream.${unsupported}: ${metric} keeps its own ${unsupported}`);
        }
      }
      const kinds = Object.keys(aggregation);
      const allowed =
        metric === HTTP_REQUEST_DURATION_SECONDS ? 'explicit_bucket_histogram' : 'sum';
      const wrong = kinds.find((k) => k !== 'default' && k !== allowed);
      if (wrong) {
        problems.push(`${at}.stream.aggregation.${wrong}: ${metric} takes only ${allowed}`);
      }
      own[metric] = {
        ...own[metric],
        ...(boundaries && { boundaries }),
        ...(stream.aggregation_cardinality_limit && {
          cardinalityLimit: stream.aggregation_cardinality_limit,
        }),
        ...(keys && { attributeKeys: keep(LABELS[metric]) }),
      };
    }
    sdk.push({
      instrumentName: selector.instrument_name,
      instrumentType: selector.instrument_type,
      instrumentUnit: selector.unit,
      meterName: selector.meter_name,
      meterVersion: selector.meter_version,
      name: stream.name,
      description: stream.description,
      boundaries,
      drop: 'drop' in aggregation,
      cardinalityLimit: stream.aggregation_cardinality_limit,
      attributeKeys: keys,
    });
  });
  return { own, sdk };
}

interface RawFile {
  disabled?: boolean;
  log_level?: LogLevel;
  resource?: {
    attributes?: { name: string; value?: unknown }[];
    attributes_list?: string;
  };
  meter_provider?: {
    readers?: {
      pull?: {
        exporter: {
          'prometheus/development'?: {
            without_scope_info?: boolean;
            without_target_info?: boolean;
          };
        };
        cardinality_limits?: Record<string, number>;
      };
    }[];
    views?: RawView[];
  };
  'instrumentation/development'?: {
    js?: Record<
      string,
      {
        path?: string;
        entity_type_key?: string;
        auth_failures_per_minute?: number;
        events?: { entities?: string[]; operations?: string[] };
      }
    >;
  };
}

/**
 * Reads an OTel declarative configuration file. Problems are returned, each prefixed with the
 * file's name and the key's path; nothing is thrown for a bad file.
 */
export function readConfigFile(
  file: string,
  env: NodeJS.ProcessEnv,
): { settings: PartialSettings; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { settings: {}, problems: [`${file}: cannot be read (${code})`] };
  }
  const parsed = parseWithSubstitution(text, env);
  const problems = [...parsed.problems];
  if (problems.length === 0) problems.push(...validate(parsed.data ?? {}, FILE));
  if (problems.length === 0) {
    const format = (parsed.data as { file_format: string }).file_format;
    if (!/^1\.0(-rc\.\d+)?$/.test(format)) {
      problems.push(`file_format: expected "1.0", got "${format}"`);
    }
  }
  if (problems.length > 0) return { settings: {}, problems: problems.map((p) => `${file}: ${p}`) };

  const raw = parsed.data as RawFile;
  const settings: PartialSettings = { configFile: file };
  if (raw.disabled !== undefined) settings.disabled = raw.disabled;
  if (raw.log_level !== undefined) settings.logLevel = raw.log_level;

  if (raw.resource) {
    const attributes: Record<string, string> = {};
    if (raw.resource.attributes_list !== undefined) {
      const list = parseKeyValueList(raw.resource.attributes_list);
      if ('error' in list) problems.push(`resource.attributes_list: ${list.error}`);
      else Object.assign(attributes, list.value);
    }
    for (const { name, value } of raw.resource.attributes ?? []) {
      if (value === undefined || value === null) continue;
      attributes[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    settings.resourceAttributes = attributes;
  }

  const pull = raw.meter_provider?.readers?.find((r) => r.pull)?.pull;
  const prometheus = pull?.exporter['prometheus/development'];
  if (prometheus?.without_scope_info !== undefined) {
    settings.withoutScopeInfo = prometheus.without_scope_info;
  }
  if (prometheus?.without_target_info !== undefined) {
    settings.withoutTargetInfo = prometheus.without_target_info;
  }
  const limits = pull?.cardinality_limits;
  if (limits?.default !== undefined) settings.cardinalityLimit = limits.default;
  if (limits) {
    settings.cardinalityLimitsByType = Object.fromEntries(
      Object.entries(limits).filter(([type]) => type !== 'default'),
    );
  }

  const { own, sdk } = readViews(raw.meter_provider?.views ?? [], problems);
  // Reader-level limits per instrument type sit below a view's own limit.
  for (const metric of METRIC_NAMES) {
    const byType = metric === HTTP_REQUEST_DURATION_SECONDS ? limits?.histogram : limits?.counter;
    if (byType !== undefined) own[metric] = { cardinalityLimit: byType, ...own[metric] };
  }
  settings.views = own;
  settings.sdkViews = sdk;

  const ours = raw['instrumentation/development']?.js?.[PACKAGE_NAME];
  if (ours?.path !== undefined) settings.path = ours.path;
  if (ours?.entity_type_key !== undefined) settings.entityTypeKey = ours.entity_type_key;
  if (ours?.auth_failures_per_minute !== undefined) {
    settings.authFailuresPerMinute = ours.auth_failures_per_minute;
  }
  if (ours?.events) {
    settings.events = {
      entities: ours.events.entities ?? [],
      operations: ours.events.operations ?? [],
    };
  }
  return { settings, problems: problems.map((p) => `${file}: ${p}`) };
}
