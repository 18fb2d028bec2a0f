// The parts of the OTel declarative configuration (file_format 1.0 and 1.1) this package reads, as a
// schema: everything else is reported with its path, except the sections other tools own.
import { any, arr, bool, empty, num, obj, str, type Schema } from './schema';
import { PACKAGE_NAME } from '../version';
import { EXPORTER_KEYS } from './exporter-keys';
import { LOG_LEVELS, MAX_TIMER_MS } from './values';

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

/** The parts of the OTel declarative configuration (file_format 1.0 and 1.1) this package reads. */
export const FILE: Schema = obj(
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
                  'prometheus/development': obj({
                    ...Object.fromEntries(
                      EXPORTER_KEYS.flatMap((key) => [key.current, ...key.former]).map((name) => [
                        name,
                        bool,
                      ]),
                    ),
                    // Given, the route is served on a port of its own (SCANOPY_METRICS_PORT).
                    host: str(),
                    port: num({ integer: true, min: 1 }),
                  }),
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
            periodic: obj(
              {
                interval: num({ integer: true, min: 1, max: MAX_TIMER_MS }),
                timeout: num({ integer: true, min: 1, max: MAX_TIMER_MS }),
                exporter: obj({
                  otlp_http: obj(
                    {
                      endpoint: str(),
                      headers: arr(obj({ name: str(), value: str() }, { required: ['name'] })),
                      headers_list: str(),
                      compression: str(['gzip', 'none']),
                      timeout: num({ integer: true, min: 1, max: MAX_TIMER_MS }),
                      encoding: str(['protobuf', 'json']),
                      temporality_preference: str(['cumulative', 'delta', 'low_memory']),
                      default_histogram_aggregation: str(['explicit_bucket_histogram']),
                    },
                    { ignored: ['tls', 'insecure'] },
                  ),
                  console: empty,
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
              max_concurrent_scrapes: num({ integer: true, min: 0 }),
              scrape_timeout_ms: num({ integer: true, min: 0, max: MAX_TIMER_MS }),
              duration_entity_type: bool,
              enabled_instrumentations: arr(str(['http', 'runtime-node'])),
              events: obj({
                entities: stringList,
                operations: stringList,
                max_new_entities: num({ integer: true, min: 0 }),
                max_new_operations: num({ integer: true, min: 0 }),
              }),
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
    ignored: [
      'tracer_provider',
      'logger_provider',
      'propagator',
      'attribute_limits',
      'distribution',
    ],
  },
);
