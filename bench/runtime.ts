// Runtime metrics: runs runtime-bench.ts once per library, each in a child of its own on the server
// core, rounds interleaved, and makes the table that justifies the choice of library.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import type { Sizes } from './options';
import {
  RUNTIME_VARIANTS,
  type RuntimeRequest,
  type RuntimeResult,
  type RuntimeVariant,
} from './runtime-bench';
import { median, rotate } from './stats';
import { fixed, type Table } from './table';

export async function runtimeCost(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const results = new Map<RuntimeVariant, RuntimeResult[]>(RUNTIME_VARIANTS.map((v) => [v, []]));
  const idleMs = sizes.quick ? 500 : 3000;
  for (let round = 0; round < sizes.rounds; round++) {
    for (const variant of rotate(RUNTIME_VARIANTS, round)) {
      progress(`runtime: round ${round + 1}/${sizes.rounds}, ${variant}`);
      const child = await Child.start({
        name: `runtime benchmark (${variant})`,
        module: path.join(__dirname, 'micro-child.js'),
        nodeArgs: ['--expose-gc'],
        cpu: SERVER_CPU,
      });
      try {
        const request: RuntimeRequest = {
          variant,
          idleMs,
          workRounds: sizes.quick ? 2 : 5,
          collections: sizes.quick ? 20 : 200,
        };
        results.get(variant)?.push(await child.call<RuntimeResult>('runtime', request));
      } finally {
        await child.stop();
      }
    }
  }
  const of = (v: RuntimeVariant, pick: (r: RuntimeResult) => number): number =>
    median((results.get(v) ?? []).map(pick));
  const noneWork = of('none', (r) => r.workMs);
  const noneIdle = of('none', (r) => r.idleMicrosPerSecond);
  const rows = RUNTIME_VARIANTS.map((v) => [
    v,
    fixed(
      of(v, (r) => r.idleMicrosPerSecond),
      0,
    ),
    v === 'none' ? '-' : fixed(of(v, (r) => r.idleMicrosPerSecond) - noneIdle, 0),
    fixed(
      of(v, (r) => r.workMs),
      1,
    ),
    v === 'none' ? '-' : fixed(of(v, (r) => r.workMs) - noneWork, 1),
    v === 'none'
      ? '-'
      : fixed(
          of(v, (r) => r.collectMs),
          3,
        ),
    v === 'none'
      ? '-'
      : fixed(
          of(v, (r) => r.lines),
          0,
        ),
  ]);
  const otel = of('otel runtime-node + process', (r) => r.collectMs);
  const prom = of('prom-client defaults', (r) => r.collectMs);
  return {
    title: 'Runtime metrics — what each library costs the process',
    notes: [
      `One fresh child per library and round (${sizes.rounds} rounds, order rotated), on the server core.`,
      `idle: process.cpuUsage() over ${idleMs} ms of an idle event loop, per second (the event-loop` +
        ' delay sampling both libraries start); work: CPU of 50 batches of 20,000 short-lived' +
        ' objects with a turn of the loop between batches (the GC observers run per collection of' +
        ' garbage), median of rounds; collect: one collection of the runtime metrics (OTel: the' +
        " package's scrape, its HTTP metrics empty; prom-client: registry.metrics()).",
    ],
    columns: ['variant', 'idle µs/s', '+ idle', 'work ms', '+ work', 'collect ms', 'lines'],
    rows,
    goals: [
      {
        text: "OTel runtime-node's collection takes no longer than prom-client defaults'",
        measured: `${fixed(otel, 3)} ms vs ${fixed(prom, 3)} ms`,
        met: Number.isFinite(otel) && Number.isFinite(prom) ? otel <= prom : undefined,
      },
    ],
  };
}
