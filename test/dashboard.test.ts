// The shipped Grafana dashboard (deploy/grafana/scanopy-metrics.json) against a real Prometheus:
// the reference service, preloaded, under generated traffic; Prometheus scraping it every second
// with the shipped recording and alert rules loaded; every query of the dashboard, its variables
// substituted as Grafana does, run through Prometheus's HTTP API. Each must succeed; the main
// panels (the new HTTP metrics' included) and the runtime panels must return data, and the panels
// of metrics other parts of the package add once the service exposes them.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import {
  RULE_FILES,
  panelTargets,
  readDashboard,
  substitute,
  variableQuery,
  type Selection,
} from '../demo/dashboard';
import {
  prometheusApi,
  startPrometheus,
  type PrometheusServer,
  type Sample,
} from '../demo/prometheus';
import { generateTraffic, type TrafficStats } from '../demo/traffic';
import { expect } from './helpers/chai';
import { ReferenceProcesses, type ReferenceProcess } from './helpers/reference-process';
import { pollUntil } from './helpers/wait';

const dashboard = readDashboard();

/** Panels that must show data whatever else is switched on. */
const MAIN_PANELS = [
  'Request rate by status class',
  'Error ratio (5xx)',
  'Latency p50, p95, p99',
  'p95 latency by path',
  'Request rate by path (top 10)',
  'Error budget burn rate (1 h)',
  'Callers by kind',
  'Events by entity and operation',
  'Failed authentications (service)',
  'Targets up',
  'Samples per scrape',
  // The HTTP metrics Scanopy's operators added.
  'Requests in flight',
  'Request body size p50, p95',
  'Response body size p50, p95',
  'Bytes received and sent',
];

/**
 * Runtime panels: the reference service runs with runtime-node on (below), so these must show
 * data too, on the names runtime-node and host-metrics give (their metric families checked first).
 */
const RUNTIME_PANELS: Record<string, RegExp[]> = {
  CPU: [/^process_cpu_time_total$/],
  Memory: [/^process_memory_usage$/, /^v8js_memory_heap_used$/],
  'Event-loop delay p99': [/^nodejs_eventloop_delay_p99$/],
  'Event-loop utilization': [/^nodejs_eventloop_utilization$/],
  'GC time': [/^v8js_gc_duration$/],
  'Active resources': [/^v8js_resource_active$/],
};

/**
 * Panels of metrics that other parts of the package add: data expected once the service exposes
 * a family matching each pattern (names as the exposition's # TYPE lines give them).
 */
const WHEN_EXPOSED: Record<string, RegExp[]> = {
  'Scrapes by status code': [/^scanopy_metrics_scrapes(_total)?$/],
  'Refused scrapes (401, 429) in 5 minutes': [/^scanopy_metrics_scrapes(_total)?$/],
  'Scrape duration': [/^scanopy_metrics_scrape_duration_seconds$/],
};

/** Panels that are empty on a healthy service under this traffic: no label set limit reached. */
const EMPTY_WHEN_HEALTHY = ['Label set limit reached'];

function hasFiniteValue(samples: Sample[]): boolean {
  return samples.some((s) =>
    (s.values ?? (s.value ? [s.value] : [])).some(([, v]) => Number.isFinite(Number(v))),
  );
}

describe('the Grafana dashboard (deploy/grafana/scanopy-metrics.json)', () => {
  it('takes its data source from a variable and filters by job, instance and path', () => {
    const variables = dashboard.templating.list;
    expect(variables.map((v) => `${v.type}:${v.name}`)).to.deep.equal([
      'datasource:datasource',
      'query:job',
      'query:instance',
      'query:path',
    ]);
    const text = JSON.stringify(dashboard);
    // Every data source reference is the variable (no uid of someone's Grafana).
    const uids = [...text.matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(uids)).to.deep.equal(
      new Set(['scanopy-metrics', '${datasource}', '-- Grafana --']),
    );
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').to.equal(ids.length);
    for (const { panel, target } of panelTargets(dashboard)) {
      const refs = [...target.expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]);
      for (const ref of refs) {
        expect(
          ['job', 'instance', 'path', '__rate_interval'],
          `${panel.title}: $${ref}`,
        ).to.include(ref);
      }
    }
    const titles = dashboard.panels.map((p) => p.title);
    const all = [
      ...MAIN_PANELS,
      ...Object.keys(RUNTIME_PANELS),
      ...Object.keys(WHEN_EXPOSED),
      ...EMPTY_WHEN_HEALTHY,
    ];
    for (const title of all) {
      expect(titles, title).to.include(title);
    }
    const classified = new Set(all);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(classified.has(panel.title), `${panel.title} is checked below`).to.equal(true);
    }
  });

  it('substitutes variables as Grafana does for Prometheus: All as .*, values regex-escaped', () => {
    const expr = 'up{job=~"$job", instance=~"${instance}", path=~"[[path]]"}[$__rate_interval]';
    expect(substitute(dashboard, expr, {}, '1m')).to.equal(
      'up{job=~".*", instance=~".*", path=~".*"}[1m]',
    );
    expect(
      substitute(
        dashboard,
        expr,
        { job: ['a', 'b'], instance: ['127.0.0.1:80'], path: ['/x'] },
        '2m',
      ),
    ).to.equal('up{job=~"(a|b)", instance=~"127\\\\.0\\\\.0\\\\.1:80", path=~"/x"}[2m]');
  });
});

describe('every query of the dashboard against a real Prometheus scraping the reference service', function () {
  this.timeout(120_000);

  const token = randomBytes(16).toString('hex');
  const services = new ReferenceProcesses();
  const traffic = new AbortController();
  let dir: string;
  let service: ReferenceProcess;
  let prometheus: PrometheusServer | undefined;
  let trafficDone: Promise<TrafficStats> | undefined;
  let exposed: Set<string>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-dashboard-'));
    // Runtime metrics on, so that their panels are checked for data too.
    service = await services.start({
      env: {
        SCANOPY_METRICS_TOKEN: token,
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,runtime-node',
      },
    });
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(
      configFile,
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: RULE_FILES,
        scrape_configs: [
          {
            job_name: 'scanopy',
            authorization: { type: 'Bearer', credentials_file: tokenFile },
            static_configs: [{ targets: [new URL(service.url).host] }],
          },
        ],
      }),
    );
    prometheus = await startPrometheus({ configFile, dir });
    trafficDone = generateTraffic({
      baseUrl: service.url,
      signal: traffic.signal,
      pauseMs: 50,
      maxRounds: 5000,
    });

    const res = await fetch(`${service.url}/metrics`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    expect(res.status, text).to.equal(200);
    exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  });

  after(async () => {
    traffic.abort();
    await trafficDone;
    await prometheus?.stop();
    await services.stopAll();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A range query over the last minute, as a panel sends it. */
  function queryRange(expr: string): Promise<{ result: Sample[] }> {
    const end = Date.now() / 1000;
    const params = new URLSearchParams({
      query: expr,
      start: String(end - 60),
      end: String(end),
      step: '1',
    });
    return prometheusApi(prometheus!.url, `/api/v1/query_range?${params.toString()}`);
  }

  const instance = (): string => new URL(service.url).host;
  const oneOfEach = (): Record<string, Selection> => ({
    job: ['scanopy'],
    instance: [instance()],
    path: ['/api/v1/hosts'],
  });

  it('loads the shipped rules, and every rule evaluates without error', async () => {
    let groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] =
      [];
    await pollUntil(
      'every rule has been evaluated',
      async () => {
        ({ groups } = await prometheusApi<{ groups: typeof groups }>(
          prometheus!.url,
          '/api/v1/rules',
        ));
        return (
          groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown'))
        );
      },
      { timeoutMs: 30_000 },
    );
    expect(groups.map((g) => g.name)).to.have.members([
      'scanopy-metrics.dashboard',
      'scanopy-metrics.sli',
      'scanopy-metrics.slo-alerts',
      'scanopy-metrics.scrape-alerts',
    ]);
    for (const rule of groups.flatMap((g) => g.rules)) {
      expect(rule.health, `${rule.name}: ${rule.lastError}`).to.equal('ok');
    }
  });

  it("the variables' queries list the job, the instance and the paths", async () => {
    const values: Record<string, string[]> = {};
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const match = /^label_values\((.+), (\w+)\)$/.exec(variableQuery(variable) ?? '');
      expect(match, `${variable.name}: label_values(selector, label)`).not.to.equal(null);
      const selector = substitute(dashboard, match![1], {}, '1m');
      await pollUntil(`${variable.name} has values`, async () => {
        values[variable.name] = await prometheusApi<string[]>(
          prometheus!.url,
          `/api/v1/label/${match![2]}/values?match[]=${encodeURIComponent(selector)}`,
        );
        return values[variable.name].length > 0;
      });
    }
    expect(values.job).to.deep.equal(['scanopy']);
    expect(values.instance).to.deep.equal([instance()]);
    expect(values.path).to.include.members(['/api/v1/hosts', '/api/v1/hosts/:id', '/api/health']);
  });

  it('runs every panel query, with All and with one value of each variable', async () => {
    const targets = panelTargets(dashboard);
    expect(targets.length).to.be.greaterThan(25);
    for (const { panel, target } of targets) {
      for (const selections of [{}, oneOfEach()]) {
        const expr = substitute(dashboard, target.expr, selections, '1m');
        expect(expr, `${panel.title}: no variable left`).not.to.include('$');
        // prometheusApi throws with Prometheus's error unless the query succeeded.
        await queryRange(expr).catch((error: Error) => {
          throw new Error(`${panel.title} (${target.refId}): ${expr}\n${error.message}`);
        });
      }
    }
  });

  it('the main panels return data, for All and for one value of each variable', async () => {
    const targets = panelTargets(dashboard).filter(({ panel }) =>
      MAIN_PANELS.includes(panel.title),
    );
    expect(new Set(targets.map(({ panel }) => panel.title)).size).to.equal(MAIN_PANELS.length);
    for (const selections of [{}, oneOfEach()]) {
      let empty: string[] = [];
      await pollUntil(
        'every main panel query returns data',
        async () => {
          empty = [];
          for (const { panel, target } of targets) {
            const expr = substitute(dashboard, target.expr, selections, '1m');
            if (!hasFiniteValue((await queryRange(expr)).result)) {
              empty.push(`${panel.title} (${target.refId}): ${expr}`);
            }
          }
          return empty.length === 0;
        },
        { timeoutMs: 45_000, intervalMs: 1000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; empty:\n${empty.join('\n')}`);
      });
    }
  });

  it('the runtime panels return data, on the families runtime-node and host-metrics expose', async () => {
    // A family appears with its first data point (the GC histogram after the first GC).
    let missing: string[] = [];
    await pollUntil(
      'the service exposes every runtime family',
      async () => {
        const res = await fetch(`${service.url}/metrics`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const text = await res.text();
        const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
        missing = Object.entries(RUNTIME_PANELS).flatMap(([title, patterns]) =>
          patterns
            .filter((pattern) => !families.some((family) => pattern.test(family)))
            .map((pattern) => `${title}: ${String(pattern)}`),
        );
        return missing.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; missing:\n${missing.join('\n')}`);
    });
    const targets = panelTargets(dashboard).filter(({ panel }) => panel.title in RUNTIME_PANELS);
    expect(new Set(targets.map(({ panel }) => panel.title)).size).to.equal(
      Object.keys(RUNTIME_PANELS).length,
    );
    let empty: string[] = [];
    await pollUntil(
      'every runtime panel query returns data',
      async () => {
        empty = [];
        for (const { panel, target } of targets) {
          const expr = substitute(dashboard, target.expr, oneOfEach(), '1m');
          if (!hasFiniteValue((await queryRange(expr)).result)) {
            empty.push(`${panel.title} (${target.refId}): ${expr}`);
          }
        }
        return empty.length === 0;
      },
      { timeoutMs: 45_000, intervalMs: 1000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; empty:\n${empty.join('\n')}`);
    });
  });

  it('the panels of metrics the service exposes return data', async () => {
    // The others' queries succeed (above) and stay empty until their metrics are exposed.
    const due = Object.entries(WHEN_EXPOSED).filter(([, patterns]) =>
      patterns.every((pattern) => [...exposed].some((family) => pattern.test(family))),
    );
    const targets = panelTargets(dashboard).filter(({ panel }) =>
      due.some(([title]) => title === panel.title),
    );
    let empty: string[] = [];
    await pollUntil(
      'every exposed metric panel returns data',
      async () => {
        empty = [];
        for (const { panel, target } of targets) {
          const expr = substitute(dashboard, target.expr, {}, '1m');
          if (!hasFiniteValue((await queryRange(expr)).result)) {
            empty.push(`${panel.title} (${target.refId}): ${expr}`);
          }
        }
        return empty.length === 0;
      },
      { timeoutMs: 45_000, intervalMs: 1000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; empty:\n${empty.join('\n')}`);
    });
  });
});
