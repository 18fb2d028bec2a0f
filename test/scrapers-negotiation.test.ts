// Real scrapers negotiating with the package, seen through a recording proxy:
// - Prometheus 2.42 (Debian), with exemplar storage on, scraping a preloaded service whose host
//   runs its own OpenTelemetry tracing (@opentelemetry/sdk-trace) and has
//   OTEL_RESOURCE_ATTRIBUTES=0digit=x:
//   it negotiates OpenMetrics 1.0.0 with gzip, the scrape is up (the attribute no longer breaks
//   it), and the trace id of a request comes back from /api/v1/query_exemplars;
// - VictoriaMetrics (Debian) scraping the text format 0.0.4 with gzip, values read back.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import { expect } from './helpers/chai';
import { Children, fixture, REQUIRE_PRELOAD, type ChildService } from './helpers/child';
import {
  api,
  query,
  recordingProxy,
  startPrometheus,
  startVictoriaMetrics,
  stopProcess,
  tail,
  waitFor,
  type RecordingProxy,
  type Server,
} from './helpers/peers';

const HOSTS = '/api/v1/hosts/:id';

async function scrapeConfig(dir: string, token: string, target: string): Promise<string> {
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const file = path.join(dir, 'scrape.yml');
  await writeFile(
    file,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s' },
      scrape_configs: [
        {
          job_name: 'scanopy',
          metrics_path: '/metrics',
          authorization: { type: 'Bearer', credentials_file: tokenFile },
          static_configs: [{ targets: [target] }],
        },
      ],
    }),
  );
  return file;
}

interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

describe('real scrapers negotiating with the package', function () {
  this.timeout(120_000);
  const children = new Children();
  let dir: string;
  let proxy: RecordingProxy | undefined;
  let scraper: Server | undefined;
  const token = randomBytes(16).toString('hex');

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scanopy-scrapers-'));
  });
  afterEach(async () => {
    await stopProcess(scraper?.proc);
    scraper = undefined;
    await proxy?.close();
    proxy = undefined;
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  async function startService(f: string, env: Record<string, string> = {}): Promise<ChildService> {
    return children.start({
      fixture: fixture(f),
      nodeArgs: REQUIRE_PRELOAD,
      env: { SCANOPY_METRICS_TOKEN: token, ...env },
    });
  }

  it('Prometheus 2.42 gets OpenMetrics 1.0.0 gzipped, stays up with 0digit=x, and stores the exemplars', async () => {
    const service = await startService('traced-service.cjs', {
      OTEL_RESOURCE_ATTRIBUTES: '0digit=x,service.name=traced',
    });
    const traceIds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${service.url}/api/v1/hosts/${i}?ms=${i % 4 === 0 ? 30 : 0}`);
      expect(res.status).to.equal(200);
      await res.text();
      const traceId = res.headers.get('x-trace-id');
      expect(traceId).to.match(/^[0-9a-f]{32}$/);
      traceIds.add(traceId!);
    }
    proxy = await recordingProxy(service.url);
    const config = await scrapeConfig(dir, token, new URL(proxy.url).host);
    scraper = await startPrometheus(config, dir, ['--enable-feature=exemplar-storage']);
    const base = scraper.url;

    const requests = `http_requests_total{job="scanopy",path="${HOSTS}",status="200"}`;
    await waitFor(
      'Prometheus to have scraped the 20 requests',
      async () => {
        const result = await query(base, requests);
        return result.length === 1 && result[0].value[1] === '20' ? true : undefined;
      },
      () =>
        `exchanges: ${JSON.stringify(proxy?.exchanges.slice(-3))}; ${tail(scraper!.proc.output())}`,
    );
    const up = await query(base, 'up{job="scanopy"}');
    expect(up.map((r) => r.value[1])).to.deep.equal(['1']);
    const info = await query(base, 'target_info{job="scanopy"}');
    expect(info).to.have.length(1);
    expect(info[0].metric).to.include({ _0digit: 'x', service_name: 'traced' });

    // What Prometheus asked for and got, on every scrape.
    const scrapes = proxy.exchanges.filter((e) => e.status === 200);
    expect(scrapes.length).to.be.at.least(1);
    for (const e of scrapes) {
      expect(e.accept).to.match(/^application\/openmetrics-text;version=1\.0\.0,/);
      expect(e.acceptEncoding).to.equal('gzip');
      expect(e.contentType).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(e.contentEncoding).to.equal('gzip');
    }

    const now = Date.now() / 1000;
    const exemplars = await waitFor(
      'an exemplar of the duration histogram in Prometheus',
      async () => {
        const data = await api<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }[]>(
          base,
          `/api/v1/query_exemplars?query=${encodeURIComponent(
            `http_request_duration_seconds_bucket{job="scanopy",path="${HOSTS}"}`,
          )}&start=${now - 3600}&end=${now + 3600}`,
        );
        const all = data.flatMap((s) => s.exemplars);
        return all.length > 0 ? all : undefined;
      },
      () => tail(scraper!.proc.output()),
    );
    for (const e of exemplars) {
      expect(traceIds.has(e.labels.trace_id), `trace_id ${e.labels.trace_id}`).to.equal(true);
      expect(e.labels.span_id).to.match(/^[0-9a-f]{16}$/);
      expect(Number(e.value)).to.be.within(0, 10);
    }
  });

  it('VictoriaMetrics gets the text format 0.0.4 gzipped, and its values read back exactly', async () => {
    const service = await startService('service.cjs');
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${service.url}/api/v1/hosts/${i}`);
      expect(res.status).to.equal(200);
      await res.text();
    }
    const publish = await fetch(`${service.url}/publish?n=3`, { method: 'POST' });
    expect(publish.status).to.equal(200);
    await publish.text();
    proxy = await recordingProxy(service.url);
    const config = await scrapeConfig(dir, token, new URL(proxy.url).host);
    scraper = await startVictoriaMetrics(config, dir);
    const base = scraper.url;

    const requests = `http_requests_total{path="${HOSTS}",status="200"}`;
    const events = 'scanopy_events_total{entity="Host",operation="created"}';
    const durations = `http_request_duration_seconds_count{path="${HOSTS}"}`;
    const inf = `http_request_duration_seconds_bucket{path="${HOSTS}",le="+Inf"}`;
    let last: unknown;
    await waitFor(
      'VictoriaMetrics to have the scraped values',
      async () => {
        const values = await Promise.all(
          [requests, events, durations, inf].map(async (q) => {
            const r = await query(base, q);
            return r.length === 1 ? r[0].value[1] : undefined;
          }),
        );
        last = values;
        return values.join(',') === '7,3,7,7' ? true : undefined;
      },
      () => `last values: ${JSON.stringify(last)}; ${tail(scraper!.proc.output())}`,
    );
    const scrapes = proxy.exchanges.filter((e) => e.status === 200);
    expect(scrapes.length).to.be.at.least(1);
    for (const e of scrapes) {
      expect(e.accept).to.equal('text/plain;version=0.0.4;q=1,*/*;q=0.1');
      expect(e.acceptEncoding).to.equal('gzip');
      expect(e.contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(e.contentEncoding).to.equal('gzip');
    }
  });
});
