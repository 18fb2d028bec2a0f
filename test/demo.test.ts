// `npm run demo` (build/demo/run.js): starts the preloaded reference service, a real Prometheus
// with the shipped rules scraping it, and traffic; prints where to look; and on Ctrl-C (SIGINT
// to the whole process group, as a terminal sends it) or a SIGINT to the demo alone, stops and
// waits for all of its children.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

import { REPO } from '../demo/dashboard';
import { prometheusApi, type Sample } from '../demo/prometheus';
import { childEnv } from './helpers/child';
import { expect } from './helpers/chai';
import { pollUntil } from './helpers/wait';

const DEMO = path.join(REPO, 'build', 'demo', 'run.js');

interface Demo {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(): Demo {
  // Its own process group, so that the test can signal the group as a terminal would.
  const child = spawn(process.execPath, [DEMO], {
    cwd: REPO,
    detached: true,
    env: childEnv({ SCANOPY_SERVER_PORT: '0', DEMO_PROMETHEUS_PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).to.equal('ESRCH');
    return false;
  }
}

/** The demo's banner: the children's pids and addresses, and the links it prints. */
function banner(output: string) {
  const service = /service \(pid (\d+)\): +(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
  const prometheus = /Prometheus \(pid (\d+)\): (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
  expect(service, output).not.to.equal(null);
  expect(prometheus, output).not.to.equal(null);
  const links = [...output.matchAll(/^ +(http:\/\/\S+\/graph\?\S+)$/gm)].map((m) => new URL(m[1]));
  return {
    servicePid: Number(service![1]),
    serviceUrl: service![2],
    prometheusPid: Number(prometheus![1]),
    prometheusUrl: prometheus![2],
    links,
  };
}

describe('npm run demo', function () {
  this.timeout(90_000);

  let demo: Demo | undefined;
  afterEach(async () => {
    // A failed test leaves nothing behind.
    if (demo !== undefined && demo.child.exitCode === null && demo.child.signalCode === null) {
      process.kill(-demo.child.pid!, 'SIGKILL');
      await demo.exited;
    }
    demo = undefined;
  });

  async function started(): Promise<ReturnType<typeof banner>> {
    const running = startDemo();
    demo = running;
    await pollUntil(
      'the demo prints that traffic is running',
      () => {
        if (running.child.exitCode !== null) throw new Error(`demo exited: ${running.output()}`);
        return Promise.resolve(running.output().includes('Ctrl-C stops everything.'));
      },
      { timeoutMs: 60_000 },
    );
    return banner(running.output());
  }

  it('serves the service to a Prometheus with the rules loaded, links to live queries, and stops on Ctrl-C', async () => {
    const { servicePid, serviceUrl, prometheusPid, prometheusUrl, links } = await started();
    expect(new URL(serviceUrl).hostname).to.equal('127.0.0.1');
    expect(new URL(prometheusUrl).hostname).to.equal('127.0.0.1');

    // Prometheus scrapes the service with the token; the shipped rules are loaded.
    await pollUntil(
      'Prometheus has scraped the service',
      async () => {
        const up = await prometheusApi<{ result: Sample[] }>(
          prometheusUrl,
          `/api/v1/query?query=${encodeURIComponent('up{job="scanopy"}')}`,
        );
        return up.result.length === 1 && up.result[0].value?.[1] === '1';
      },
      { timeoutMs: 30_000 },
    );
    const { groups } = await prometheusApi<{ groups: { name: string }[] }>(
      prometheusUrl,
      '/api/v1/rules',
    );
    expect(groups.map((g) => g.name)).to.have.members([
      'scanopy-metrics.dashboard',
      'scanopy-metrics.sli',
      'scanopy-metrics.slo-alerts',
      'scanopy-metrics.scrape-alerts',
    ]);

    // Six key panels, each a link to Prometheus's graph page whose queries Prometheus accepts;
    // the request rate fills in once the recording rules have run on the traffic.
    expect(links).to.have.length(6);
    for (const link of links) {
      expect(link.origin).to.equal(prometheusUrl);
      const expr = link.searchParams.get('g0.expr');
      expect(expr, link.href).to.be.a('string');
      await prometheusApi(prometheusUrl, `/api/v1/query?query=${encodeURIComponent(expr!)}`);
    }
    const rate = links[0].searchParams.get('g0.expr')!;
    expect(rate).to.include('job_instance_path_status_class:http_requests:rate5m');
    await pollUntil(
      'the request rate has data',
      async () =>
        (
          await prometheusApi<{ result: Sample[] }>(
            prometheusUrl,
            `/api/v1/query?query=${encodeURIComponent(rate)}`,
          )
        ).result.length > 0,
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // Ctrl-C: SIGINT to the whole process group.
    process.kill(-demo!.child.pid!, 'SIGINT');
    const exit = await demo!.exited;
    expect(exit, demo!.output()).to.deep.equal({ code: 0, signal: null });
    expect(alive(servicePid), 'the service is gone').to.equal(false);
    expect(alive(prometheusPid), 'Prometheus is gone').to.equal(false);
    expect(demo!.output()).to.include('SIGINT: stopping the traffic, Prometheus and the service');
  });

  it('stops its children on a SIGINT to the demo process alone', async () => {
    const { servicePid, prometheusPid } = await started();
    expect(alive(servicePid)).to.equal(true);
    expect(alive(prometheusPid)).to.equal(true);
    demo!.child.kill('SIGINT');
    const exit = await demo!.exited;
    expect(exit, demo!.output()).to.deep.equal({ code: 0, signal: null });
    expect(alive(servicePid), 'the service is gone').to.equal(false);
    expect(alive(prometheusPid), 'Prometheus is gone').to.equal(false);
  });
});
