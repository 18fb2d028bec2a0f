// Configurations for a fleet (deploy/fleet/): a Prometheus job discovering pods with
// kubernetes_sd_configs, a Prometheus Operator PodMonitor, an OpenTelemetry Collector scraping the
// pods, and one receiving pushed OTLP.
//
// Debian's prometheus package is built without Kubernetes service discovery (its promtool answers
// "field kubernetes_sd_configs not found"), so the Prometheus job is checked in three parts: its
// kubernetes_sd_configs block against the documented schema; the rest of the job with
// `promtool check config`, the discovery swapped for file_sd_configs; and its relabelings run in a
// real Prometheus on the labels the pod role gives each target, fed through file_sd_configs,
// scraping the reference service. The PodMonitor and the Collector files are checked against
// schemas written from the PodMonitor CRD (monitoring.coreos.com/v1) and the Collector's
// component documentation (no operator or Collector can be installed here).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { parse, stringify } from 'yaml';

import { REPO } from '../demo/dashboard';
import { prometheusApi, startPrometheus, type PrometheusServer } from '../demo/prometheus';
import { expect } from './helpers/chai';
import { PROMTOOL } from './helpers/promtool';
import { ReferenceProcesses, type ReferenceProcess } from './helpers/reference-process';
import { arrayOf, bool, check, int, mapOf, obj, str, type Schema } from './helpers/schema';
import { pollUntil } from './helpers/wait';

const FLEET = path.join(REPO, 'deploy', 'fleet');
type Yaml = Record<string, unknown>;
const readYaml = (name: string): Yaml =>
  parse(readFileSync(path.join(FLEET, name), 'utf8')) as Yaml;

// --- Schemas ------------------------------------------------------------------------------

/** Go durations as the Collector and Prometheus read them. */
const DURATION = /^(\d+(ns|us|µs|ms|s|m|h))+$/;
/** The CRD's pattern for `interval` and `scrapeTimeout`. */
const K8S_DURATION =
  /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOST_PORT = /^[^\s:]+:\d+$/;
const ANY: Schema = { type: 'any' };

// Prometheus's <kubernetes_sd_config>.
const KUBERNETES_ROLES = ['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress'];
const KUBERNETES_SD: Schema = obj(
  {
    role: str({ enum: KUBERNETES_ROLES }),
    api_server: str(),
    kubeconfig_file: str(),
    namespaces: obj({ own_namespace: bool, names: arrayOf(str({ pattern: DNS_NAME })) }),
    selectors: arrayOf(
      obj({ role: str({ enum: KUBERNETES_ROLES }), label: str(), field: str() }, ['role']),
    ),
    attach_metadata: obj({ node: bool }),
    authorization: ANY,
    tls_config: ANY,
    follow_redirects: bool,
    enable_http2: bool,
  },
  ['role'],
);

// monitoring.coreos.com/v1 PodMonitor (the CRD's openAPIV3Schema, the parts used here).
const SECRET_KEY: Schema = obj({ name: str(), key: str(), optional: bool }, ['key']);
// The CRD's enum: each action in lower case and in CamelCase.
const RELABEL_ACTIONS = [
  ['replace', 'Replace'],
  ['keep', 'Keep'],
  ['drop', 'Drop'],
  ['hashmod', 'HashMod'],
  ['labelmap', 'LabelMap'],
  ['labeldrop', 'LabelDrop'],
  ['labelkeep', 'LabelKeep'],
  ['lowercase', 'Lowercase'],
  ['uppercase', 'Uppercase'],
  ['keepequal', 'KeepEqual'],
  ['dropequal', 'DropEqual'],
].flat();
const RELABELING: Schema = obj({
  action: str({ enum: RELABEL_ACTIONS }),
  modulus: int(),
  regex: str(),
  replacement: str(),
  separator: str(),
  sourceLabels: arrayOf(str({ pattern: LABEL_NAME })),
  targetLabel: str(),
});
const POD_METRICS_ENDPOINT: Schema = obj({
  port: str(),
  portNumber: int(1, 65535),
  path: str({ pattern: /^\// }),
  scheme: str({ enum: ['http', 'https', 'HTTP', 'HTTPS'] }),
  interval: str({ pattern: K8S_DURATION }),
  scrapeTimeout: str({ pattern: K8S_DURATION }),
  honorLabels: bool,
  honorTimestamps: bool,
  params: mapOf(arrayOf(str())),
  authorization: obj({ type: str(), credentials: SECRET_KEY }),
  bearerTokenSecret: SECRET_KEY,
  basicAuth: ANY,
  oauth2: ANY,
  tlsConfig: ANY,
  relabelings: arrayOf(RELABELING),
  metricRelabelings: arrayOf(RELABELING),
  filterRunning: bool,
  followRedirects: bool,
  enableHttp2: bool,
  proxyUrl: str({ pattern: /^(http|https|socks5):\/\/.+$/ }),
});
const POD_MONITOR: Schema = obj(
  {
    apiVersion: str({ enum: ['monitoring.coreos.com/v1'] }),
    kind: str({ enum: ['PodMonitor'] }),
    metadata: obj(
      {
        name: str({ pattern: DNS_NAME }),
        namespace: str({ pattern: DNS_NAME }),
        labels: mapOf(str()),
        annotations: mapOf(str()),
      },
      ['name'],
    ),
    spec: obj(
      {
        attachMetadata: obj({ node: bool }),
        jobLabel: str(),
        podTargetLabels: arrayOf(str()),
        sampleLimit: int(0),
        targetLimit: int(0),
        labelLimit: int(0),
        namespaceSelector: obj({ any: bool, matchNames: arrayOf(str()) }),
        selector: obj({
          matchLabels: mapOf(str()),
          matchExpressions: arrayOf(
            obj(
              {
                key: str(),
                operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
                values: arrayOf(str()),
              },
              ['key', 'operator'],
            ),
          ),
        }),
        podMetricsEndpoints: arrayOf(POD_METRICS_ENDPOINT),
      },
      ['selector'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

// The OpenTelemetry Collector: the configuration's layout and the components used here, as their
// READMEs document them.
const COMPONENT_NAME = /^[a-z0-9_]+(\/[A-Za-z0-9_.-]+)?$/;
const AUTH: Schema = obj({ authenticator: str() }, ['authenticator']);
const CLIENT_TLS: Schema = obj({
  insecure: bool,
  insecure_skip_verify: bool,
  ca_file: str(),
  cert_file: str(),
  key_file: str(),
  server_name_override: str(),
});
const COMPONENTS: Record<
  'receivers' | 'processors' | 'exporters' | 'extensions',
  Record<string, Schema>
> = {
  receivers: {
    prometheus: obj(
      {
        config: obj({ global: ANY, scrape_configs: arrayOf(ANY) }, ['scrape_configs']),
        trim_metric_suffixes: bool,
        use_start_time_metric: bool,
        target_allocator: ANY,
      },
      ['config'],
    ),
    otlp: obj(
      {
        protocols: obj({
          grpc: obj({
            endpoint: str({ pattern: HOST_PORT }),
            auth: AUTH,
            tls: ANY,
            max_recv_msg_size_mib: int(1),
          }),
          http: obj({
            endpoint: str({ pattern: HOST_PORT }),
            auth: AUTH,
            tls: ANY,
            cors: ANY,
            metrics_url_path: str({ pattern: /^\// }),
          }),
        }),
      },
      ['protocols'],
    ),
  },
  processors: {
    batch: obj({
      timeout: str({ pattern: DURATION }),
      send_batch_size: int(0),
      send_batch_max_size: int(0),
      metadata_keys: arrayOf(str()),
      metadata_cardinality_limit: int(0),
    }),
    memory_limiter: obj(
      {
        check_interval: str({ pattern: DURATION }),
        limit_mib: int(0),
        spike_limit_mib: int(0),
        limit_percentage: int(0, 100),
        spike_limit_percentage: int(0, 100),
      },
      ['check_interval'],
    ),
  },
  exporters: {
    otlp: obj(
      {
        endpoint: str({ pattern: HOST_PORT }),
        tls: CLIENT_TLS,
        headers: mapOf(str()),
        compression: str({ enum: ['gzip', 'zstd', 'snappy', 'none'] }),
        timeout: str({ pattern: DURATION }),
        sending_queue: ANY,
        retry_on_failure: ANY,
        auth: AUTH,
      },
      ['endpoint'],
    ),
    prometheusremotewrite: obj(
      {
        endpoint: str({ pattern: /^https?:\/\/.+/ }),
        tls: CLIENT_TLS,
        headers: mapOf(str()),
        namespace: str(),
        external_labels: mapOf(str()),
        resource_to_telemetry_conversion: obj({ enabled: bool }),
        target_info: obj({ enabled: bool }),
        remote_write_queue: ANY,
        retry_on_failure: ANY,
        timeout: str({ pattern: DURATION }),
        auth: AUTH,
      },
      ['endpoint'],
    ),
    debug: obj({
      verbosity: str({ enum: ['basic', 'normal', 'detailed'] }),
      sampling_initial: int(0),
      sampling_thereafter: int(0),
    }),
  },
  extensions: {
    bearertokenauth: obj({ scheme: str(), token: str(), filename: str(), header: str() }),
  },
};
const PIPELINE: Schema = obj(
  {
    receivers: arrayOf(str({ pattern: COMPONENT_NAME })),
    processors: arrayOf(str({ pattern: COMPONENT_NAME })),
    exporters: arrayOf(str({ pattern: COMPONENT_NAME })),
  },
  ['receivers', 'exporters'],
);
const COLLECTOR: Schema = obj(
  {
    receivers: mapOf(ANY, COMPONENT_NAME),
    processors: mapOf(ANY, COMPONENT_NAME),
    exporters: mapOf(ANY, COMPONENT_NAME),
    extensions: mapOf(ANY, COMPONENT_NAME),
    connectors: mapOf(ANY, COMPONENT_NAME),
    service: obj(
      {
        extensions: arrayOf(str({ pattern: COMPONENT_NAME })),
        pipelines: mapOf(PIPELINE, /^(metrics|traces|logs)(\/[A-Za-z0-9_.-]+)?$/),
        telemetry: ANY,
      },
      ['pipelines'],
    ),
  },
  ['receivers', 'exporters', 'service'],
);

/** Every mismatch of a Collector configuration: layout, each component, and the wiring. */
function checkCollector(config: Yaml): string[] {
  const problems = check(config, COLLECTOR);
  if (problems.length > 0) return problems;
  for (const kind of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
    for (const [name, component] of Object.entries((config[kind] ?? {}) as Yaml)) {
      const schema = COMPONENTS[kind][name.split('/')[0]];
      if (schema === undefined) problems.push(`${kind}.${name}: no schema for this component`);
      else problems.push(...check(component ?? {}, schema, `${kind}.${name}`));
    }
  }
  const service = config.service as { extensions?: string[]; pipelines: Record<string, Yaml> };
  const used = {
    receivers: new Set<string>(),
    processors: new Set<string>(),
    exporters: new Set<string>(),
  };
  for (const [name, pipeline] of Object.entries(service.pipelines)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const component of (pipeline[kind] ?? []) as string[]) {
        used[kind].add(component);
        if (!(component in ((config[kind] ?? {}) as Yaml))) {
          problems.push(`service.pipelines.${name}.${kind}: ${component} is not defined`);
        }
      }
    }
  }
  for (const kind of ['receivers', 'exporters'] as const) {
    for (const name of Object.keys(config[kind] as Yaml)) {
      if (!used[kind].has(name)) problems.push(`${kind}.${name}: defined but in no pipeline`);
    }
  }
  for (const name of service.extensions ?? []) {
    if (!(name in ((config.extensions ?? {}) as Yaml))) {
      problems.push(`service.extensions: ${name} is not defined`);
    }
  }
  return problems;
}

// --- Helpers ------------------------------------------------------------------------------

function promtool(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The one scrape job of a Prometheus configuration. */
function onlyJob(config: Yaml): Yaml {
  const jobs = config.scrape_configs as Yaml[];
  expect(jobs).to.have.length(1);
  return jobs[0];
}

/**
 * A copy of a configuration whose job discovers targets from `targetsFile` instead of
 * Kubernetes, and reads the token from `tokenFile`.
 */
function withFileDiscovery(config: Yaml, targetsFile: string, tokenFile: string): Yaml {
  const copy = structuredClone(config);
  const job = onlyJob(copy);
  expect(job).to.have.property('kubernetes_sd_configs');
  delete job.kubernetes_sd_configs;
  job.file_sd_configs = [{ files: [targetsFile], refresh_interval: '1s' }];
  (job.authorization as Yaml).credentials_file = tokenFile;
  return copy;
}

// --- Tests --------------------------------------------------------------------------------

describe('configurations for a fleet (deploy/fleet/)', function () {
  this.timeout(60_000);

  const prometheusConfig = readYaml('prometheus-kubernetes.yml');
  const podMonitor = readYaml('podmonitor.yaml');
  const scrapingCollector = readYaml('otel-collector-kubernetes.yaml');
  const pushCollector = readYaml('otel-collector-otlp.yaml');

  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-fleet-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('prometheus-kubernetes.yml', () => {
    it('discovers pods (role: pod) and reads the token from a mounted file', () => {
      const job = onlyJob(prometheusConfig);
      expect(job.job_name).to.equal('scanopy');
      expect(job.authorization).to.deep.equal({
        type: 'Bearer',
        credentials_file: '/etc/prometheus/secrets/scanopy-metrics/token',
      });
      const sd = job.kubernetes_sd_configs as Yaml[];
      expect(sd).to.have.length(1);
      expect(check(sd[0], KUBERNETES_SD, 'kubernetes_sd_configs[0]')).to.deep.equal([]);
      expect(sd[0].role).to.equal('pod');
    });

    it('the schema check catches a wrong role and an unknown key', () => {
      expect(
        check({ role: 'pods', namespace: ['x'] }, KUBERNETES_SD, 'kubernetes_sd_configs[0]'),
      ).to.deep.equal([
        'kubernetes_sd_configs[0].role: "pods" is not one of node, service, pod, endpoints, endpointslice, ingress',
        'kubernetes_sd_configs[0]: unknown key namespace',
      ]);
    });

    it("as it is: passes promtool check config where promtool has Kubernetes discovery (Debian's has not)", async () => {
      const tokenFile = path.join(dir, 'token');
      await writeFile(tokenFile, 'a-token\n');
      const copy = structuredClone(prometheusConfig);
      (onlyJob(copy).authorization as Yaml).credentials_file = tokenFile;
      const file = path.join(dir, 'prometheus.yml');
      await writeFile(file, stringify(copy));
      const { code, output } = await promtool('check', 'config', file);
      // Where promtool has Kubernetes discovery, the shipped file must pass as it is.
      if (!/field kubernetes_sd_configs not found/.test(output)) {
        expect(code, output).to.equal(0);
      } else {
        expect(code, output).to.equal(1);
      }
    });

    it('passes promtool check config, with file discovery in place of Kubernetes', async () => {
      const tokenFile = path.join(dir, 'token');
      await writeFile(tokenFile, 'a-token\n');
      const targets = path.join(dir, 'targets.json');
      await writeFile(targets, '[]');
      const file = path.join(dir, 'prometheus.yml');
      await writeFile(file, stringify(withFileDiscovery(prometheusConfig, targets, tokenFile)));
      const { code, output } = await promtool('check', 'config', file);
      expect(code, output).to.equal(0);
      expect(output).to.include('SUCCESS');
    });
  });

  describe("prometheus-kubernetes.yml's relabelings in a real Prometheus", function () {
    this.timeout(90_000);

    const token = randomBytes(16).toString('hex');
    const services = new ReferenceProcesses();
    let service: ReferenceProcess;
    let prometheus: PrometheusServer | undefined;
    let workDir: string;

    before(async () => {
      workDir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-fleet-prometheus-'));
      service = await services.start({ env: { SCANOPY_METRICS_TOKEN: token } });
      const address = new URL(service.url).host;
      const port = new URL(service.url).port;
      // What the pod role discovers: one target per declared container port, at the pod's IP
      // (here every pod is the reference service), with the pod's metadata as labels.
      const pod = (
        name: string,
        portName: string,
        portNumber: string,
        extra: Record<string, string> = {},
      ) => ({
        targets: [address],
        labels: {
          __meta_kubernetes_namespace: 'scanopy',
          __meta_kubernetes_pod_name: name,
          __meta_kubernetes_pod_phase: 'Running',
          __meta_kubernetes_pod_container_name: 'server',
          __meta_kubernetes_pod_container_port_name: portName,
          __meta_kubernetes_pod_container_port_number: portNumber,
          ...extra,
        },
      });
      const annotated = { __meta_kubernetes_pod_annotation_prometheus_io_port: port };
      const discovered = [
        // The route on its own port, named `metrics`; the service's port is not scraped.
        pod('by-name', 'metrics', port),
        pod('by-name', 'http', '60072'),
        // The route on the service's port, named by the annotation; another port is not.
        pod('by-annotation', 'http', port, annotated),
        pod('by-annotation', 'debug', '9229', annotated),
        // The annotation wins over the port's name.
        pod('both', 'metrics', '9464', annotated),
        pod('both', 'http', port, annotated),
        // Neither: not scraped.
        pod('neither', 'http', port),
        // Finished, or opted out.
        pod('finished', 'metrics', port, { __meta_kubernetes_pod_phase: 'Succeeded' }),
        pod('opted-out', 'metrics', port, {
          __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'false',
        }),
        // A port per worker (here the second is an address nothing listens on).
        pod('workers', 'metrics-0', port),
        {
          ...pod('workers', 'metrics-1', String(Number(port) + 1)),
          targets: [`127.0.0.2:${port}`],
        },
        // Another path.
        pod('other-path', 'metrics', port, {
          __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom-metrics',
        }),
      ];
      const targetsFile = path.join(workDir, 'targets.json');
      await writeFile(targetsFile, JSON.stringify(discovered));
      const tokenFile = path.join(workDir, 'token');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      const config = withFileDiscovery(prometheusConfig, targetsFile, tokenFile);
      config.global = { scrape_interval: '1s', scrape_timeout: '1s' };
      const configFile = path.join(workDir, 'prometheus.yml');
      await writeFile(configFile, stringify(config));
      prometheus = await startPrometheus({ configFile, dir: workDir });
    });

    after(async () => {
      await prometheus?.stop();
      await services.stopAll();
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    });

    interface Target {
      labels: Record<string, string>;
      scrapeUrl: string;
      health: string;
      lastError: string;
    }

    it('scrapes the port named metrics, or the annotated one, with the token; labels namespace, pod and container', async () => {
      let active: Target[] = [];
      let dropped: unknown[] = [];
      await pollUntil(
        'the discovered targets are scraped',
        async () => {
          ({ activeTargets: active, droppedTargets: dropped } = await prometheusApi<{
            activeTargets: Target[];
            droppedTargets: unknown[];
          }>(prometheus!.url, '/api/v1/targets'));
          return active.length > 0 && active.every((t) => t.health !== 'unknown');
        },
        { timeoutMs: 30_000 },
      );
      const workers = active.filter((t) => t.labels.pod === 'workers');
      const byPod = Object.fromEntries(
        active
          .filter((t) => t.labels.pod !== 'workers')
          .map((t) => [t.labels.pod, { ...t, scrapeUrl: new URL(t.scrapeUrl).pathname }]),
      );
      expect(Object.keys(byPod)).to.have.members([
        'by-name',
        'by-annotation',
        'both',
        'other-path',
      ]);
      expect(active).to.have.length(6);
      expect(dropped).to.have.length(12 - 6);
      const instance = new URL(service.url).host;
      // One target per worker port.
      expect(workers.map((t) => t.labels.instance)).to.have.members([
        instance,
        `127.0.0.2:${new URL(service.url).port}`,
      ]);
      expect(workers.find((t) => t.labels.instance === instance)?.health).to.equal('up');
      for (const name of ['by-name', 'by-annotation', 'both']) {
        expect(byPod[name].labels).to.deep.equal({
          job: 'scanopy',
          instance,
          namespace: 'scanopy',
          pod: name,
          container: 'server',
        });
        expect(byPod[name].scrapeUrl).to.equal('/metrics');
        expect(byPod[name].health, byPod[name].lastError).to.equal('up');
      }
      // The path comes from the annotation (the reference service has no such route: 404).
      expect(byPod['other-path'].scrapeUrl).to.equal('/custom-metrics');
      expect(byPod['other-path'].health).to.equal('down');
      expect(byPod['other-path'].lastError).to.match(/\b404\b/);
    });
  });

  describe('podmonitor.yaml', () => {
    it('matches the PodMonitor CRD schema', () => {
      expect(check(podMonitor, POD_MONITOR)).to.deep.equal([]);
    });

    it('the schema check catches a misspelt key and a bad interval', () => {
      const broken = structuredClone(podMonitor);
      const endpoint = ((broken.spec as Yaml).podMetricsEndpoints as Yaml[])[0];
      endpoint.interval = '15 seconds';
      endpoint.bearerToken = 'inline';
      expect(check(broken, POD_MONITOR)).to.deep.equal([
        `$.spec.podMetricsEndpoints[0].interval: "15 seconds" does not match ${String(K8S_DURATION)}`,
        '$.spec.podMetricsEndpoints[0]: unknown key bearerToken',
      ]);
    });

    it('scrapes the port named metrics with the token from a Secret, as job scanopy', () => {
      const spec = podMonitor.spec as Yaml;
      const endpoints = spec.podMetricsEndpoints as Yaml[];
      expect(endpoints).to.have.length(1);
      const [endpoint] = endpoints;
      expect(endpoint.port).to.equal('metrics');
      expect(endpoint.path).to.equal('/metrics');
      expect(endpoint.authorization).to.deep.equal({
        type: 'Bearer',
        credentials: { name: 'scanopy-metrics-token', key: 'token' },
      });
      // The job name the shipped alerts select.
      expect(endpoint.relabelings).to.deep.include({
        targetLabel: 'job',
        replacement: 'scanopy',
        action: 'replace',
      });
      // The same pods as the Prometheus job.
      const selector = (spec.selector as Yaml).matchLabels as Record<string, string>;
      const sd = (onlyJob(prometheusConfig).kubernetes_sd_configs as Yaml[])[0];
      const [label] = sd.selectors as { label: string }[];
      expect(Object.entries(selector).map(([k, v]) => `${k}=${v}`)).to.deep.equal([label.label]);
    });
  });

  describe('otel-collector-kubernetes.yaml', () => {
    it('matches the Collector schema: prometheus receiver, memory_limiter and batch, otlp exporter', () => {
      expect(checkCollector(scrapingCollector)).to.deep.equal([]);
      const metrics = (scrapingCollector.service as { pipelines: Record<string, Yaml> }).pipelines
        .metrics;
      expect(metrics).to.deep.equal({
        receivers: ['prometheus'],
        processors: ['memory_limiter', 'batch'],
        exporters: ['otlp'],
      });
    });

    it('the Collector check catches an undefined component and an unknown key', () => {
      const broken = structuredClone(scrapingCollector);
      (broken.processors as Yaml).batch = { timeout: '5s', send_batch_sise: 10 };
      (broken.service as { pipelines: Record<string, Yaml> }).pipelines.metrics.exporters = [
        'otlphttp',
      ];
      expect(checkCollector(broken)).to.deep.equal([
        'processors.batch: unknown key send_batch_sise',
        'service.pipelines.metrics.exporters: otlphttp is not defined',
        'exporters.otlp: defined but in no pipeline',
      ]);
    });

    it('runs the same scrape job as prometheus-kubernetes.yml, with no $ for the Collector to expand', async () => {
      const receiver = (scrapingCollector.receivers as Yaml).prometheus as { config: Yaml };
      const embedded = onlyJob(receiver.config);
      const shipped = onlyJob(prometheusConfig);
      const { authorization, scrape_interval, scrape_timeout, ...rest } = embedded;
      const { authorization: shippedAuth, ...shippedRest } = shipped;
      expect(rest).to.deep.equal(shippedRest);
      expect({ scrape_interval, scrape_timeout }).to.deep.equal(prometheusConfig.global);
      expect((authorization as Yaml).type).to.equal((shippedAuth as Yaml).type);
      expect((authorization as Yaml).credentials_file).to.equal(
        '/etc/otelcol-contrib/secrets/scanopy-metrics/token',
      );
      expect(stringify(receiver.config)).not.to.include('$');

      const tokenFile = path.join(dir, 'token');
      await writeFile(tokenFile, 'a-token\n');
      const targets = path.join(dir, 'targets.json');
      await writeFile(targets, '[]');
      const file = path.join(dir, 'prometheus.yml');
      await writeFile(file, stringify(withFileDiscovery(receiver.config, targets, tokenFile)));
      const { code, output } = await promtool('check', 'config', file);
      expect(code, output).to.equal(0);
    });
  });

  describe('otel-collector-otlp.yaml', () => {
    it('matches the Collector schema: otlp receiver (HTTP and gRPC) with bearer auth, to remote write', () => {
      expect(checkCollector(pushCollector)).to.deep.equal([]);
      const receiver = (pushCollector.receivers as Yaml).otlp as {
        protocols: Record<string, { endpoint: string; auth: { authenticator: string } }>;
      };
      expect(receiver.protocols.http.endpoint).to.equal('0.0.0.0:4318');
      expect(receiver.protocols.grpc.endpoint).to.equal('0.0.0.0:4317');
      for (const protocol of Object.values(receiver.protocols)) {
        expect(protocol.auth.authenticator).to.equal('bearertokenauth');
      }
      const auth = (pushCollector.extensions as Yaml).bearertokenauth as Yaml;
      expect(Object.keys(auth), 'the token comes from a file, not inline').to.deep.equal([
        'filename',
      ]);
      const service = pushCollector.service as {
        extensions: string[];
        pipelines: Record<string, Yaml>;
      };
      expect(service.extensions).to.deep.equal(['bearertokenauth']);
      expect(service.pipelines.metrics).to.deep.equal({
        receivers: ['otlp'],
        processors: ['memory_limiter', 'batch'],
        exporters: ['prometheusremotewrite'],
      });
    });
  });
});
