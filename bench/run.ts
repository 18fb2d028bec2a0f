// Entry of `npm run bench`: runs the suites of issue 4 and prints one table per goal. It exits
// non-zero only when something failed (a child crashed, a request got an error): a goal not met
// is a result, printed as such, and never fails the run (tests never assert on timings).
import os from 'node:os';
import { canPin, killAllNow, liveChildren, pinSelf } from './children';
import { clusterProcesses } from './cluster-processes';
import { clusterScrape } from './cluster-suite';
import { LOAD_CPU, SERVER_CPU } from './constants';
import { eventLoop } from './eventloop';
import { events } from './events';
import { hotPath } from './hotpath';
import { instructionCounts } from './instructions';
import { memory, memoryRoutes } from './memory';
import { parseArgs, USAGE, type Sizes, type SuiteName } from './options';
import { recordCost } from './record';
import { runtimeCost } from './runtime';
import { scrapeTime } from './scrape';
import { startup } from './startup';
import { renderTable, type Table } from './table';

type Suite = (sizes: Sizes, progress: (line: string) => void) => Promise<Table>;

const SUITE_TABLES: Record<SuiteName, Suite[]> = {
  hotpath: [hotPath],
  instructions: [instructionCounts],
  record: [recordCost],
  events: [events],
  scrape: [scrapeTime, eventLoop],
  memory: [memory, memoryRoutes],
  runtime: [runtimeCost],
  startup: [startup],
  cluster: [clusterProcesses, clusterScrape],
};

/** Progress goes to stderr, so that stdout holds the tables alone. */
function progress(line: string): void {
  process.stderr.write(`… ${line}\n`);
}

function header(sizes: Sizes, pinned: boolean, cpus: number): string {
  const cores = pinned
    ? `cores: every server child and in-process benchmark child pinned to CPU ${SERVER_CPU};` +
      ` the autocannon child and this orchestrator (which mostly sleeps) pinned to CPU ${LOAD_CPU}` +
      ' (taskset).'
    : 'cores: NOT pinned (taskset unavailable or fewer than 2 CPUs); server and load share cores.';
  return [
    `scanopy-metrics benchmarks — ${sizes.quick ? 'QUICK (smoke test: sizes too small for conclusions)' : 'full'}`,
    `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus} CPUs (${os.cpus()[0]?.model ?? '?'}), ${new Date().toISOString()}`,
    cores,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  let sizes: Sizes | 'help';
  try {
    sizes = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (sizes === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  // Counted before pinning: afterwards this process sees only its own core.
  const cpus = os.availableParallelism();
  const pinned = cpus >= 2 && canPin() && pinSelf(LOAD_CPU);
  process.stdout.write(header(sizes, pinned, cpus) + '\n');
  const started = performance.now();
  let failures = 0;
  for (const name of sizes.suites) {
    for (const suite of SUITE_TABLES[name]) {
      try {
        process.stdout.write(renderTable(await suite(sizes, progress)) + '\n');
      } catch (error) {
        // The other suites still run; the exit code says something failed.
        failures++;
        process.stderr.write(`${name} failed: ${(error as Error).stack ?? String(error)}\n`);
        process.stdout.write(`== ${name}: FAILED (see stderr)\n\n`);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`total: ${seconds.toFixed(1)} s${failures ? `, ${failures} failed` : ''}\n`);
  if (liveChildren() > 0) {
    process.stderr.write(`${liveChildren()} child process(es) still running: killed\n`);
  }
  return failures > 0 ? 1 : 0;
}

// Whatever ends this process, its children go with it (they also exit when the IPC channel closes).
process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

main().then(
  (code) => {
    killAllNow();
    process.exitCode = code;
  },
  (error: unknown) => {
    killAllNow();
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
