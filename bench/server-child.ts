// A benchmark server: the reference service, with or without a metrics library, pinned to its own
// core by the orchestrator. It measures itself on request: process CPU time between `start` and
// `stop` (every thread: the event loop, GC helpers, libuv), and optionally the event loop's
// longest block. Arguments: <variant> <wiring> <labelSets>, where
//   variant  bare | scanopy-metrics | prom-client | otel-sdk
//   wiring   preload (scanopy-metrics only: the process was started with --require
//            dist/preload/register.js and SCANOPY_METRICS_TOKEN, and must find the preloaded instance)
//            | manual (the library's middleware is put first in the app by hand)
//   labelSets  label sets recorded before serving (10,000 for the event-loop benchmark)
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createApp } from '../reference-service/app';
import { BENCH_TOKEN, BLOCK_LIMIT_MS, labelSetPath, REGISTER_PATH } from './constants';
import { failStart, serve } from './rpc';
import { loadSubject, SUBJECT_NAMES, type SubjectName } from './subjects';

export interface ServerInfo {
  port: number;
}

export interface StartMeasure {
  /** Also record the event loop's delay (a 1 ms timer: only when asked, it costs CPU). */
  eventLoop?: boolean;
}

export interface StopMeasure {
  /** User + system CPU time of the whole process since `start`. */
  cpuMicros: number;
  /** Longest event-loop delay seen since `start`, in ms (with `eventLoop`). */
  eventLoopMaxMs?: number;
  eventLoopP99Ms?: number;
  /** About how many delays exceeded BLOCK_LIMIT_MS (each is one block of the loop). */
  eventLoopBlocksOverLimit?: number;
  /**
   * Most main-thread CPU time spent between two turns of a 1 ms timer, in ms (with `eventLoop`,
   * on a Node that has process.threadCpuUsage, 23.9+): the longest block as CPU time, which
   * preemption by other processes of a shared machine does not inflate as it does the delay.
   */
  eventLoopMaxCpuMs?: number;
}

/** process.threadCpuUsage (Node 23.9+): the main thread's CPU time, without libuv's pool or GC helpers. */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;

/** The longest main-thread CPU time between two turns of a 1 ms timer. */
class CpuBlocks {
  private last: NodeJS.CpuUsage;
  private maxMicros = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => NodeJS.CpuUsage) {
    this.last = read();
    this.timer = setInterval(() => this.tick(), 1);
  }

  private tick(): void {
    const now = this.read();
    const spent = now.user + now.system - this.last.user - this.last.system;
    if (spent > this.maxMicros) this.maxMicros = spent;
    this.last = now;
  }

  stop(): number {
    clearInterval(this.timer);
    this.tick();
    return this.maxMicros / 1000;
  }
}

/**
 * How many samples of the histogram exceed `limitMs`, from its percentiles: one sample is taken
 * per turn of the loop, so a block of the loop longer than the limit is one such sample.
 */
function samplesOver(delay: IntervalHistogram, limitMs: number): number {
  if (delay.count === 0 || delay.max <= limitMs * 1e6) return 0;
  let low = 0;
  let high = 100;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (delay.percentile(mid) <= limitMs * 1e6) low = mid;
    else high = mid;
  }
  return Math.max(1, Math.round((delay.count * (100 - low)) / 100));
}

async function main(): Promise<void> {
  const [variant = 'bare', wiring = 'manual', labelSets = '0'] = process.argv.slice(2);
  const { app } = createApp({ logger: () => undefined });

  if (variant === 'scanopy-metrics' && wiring === 'preload') {
    // The preload patched koa before the reference service loaded it; check that it did, through
    // the preload's own module (loaded already): importing the package's index would load every
    // module of the package into a service that, preloaded, never loads them.
    const preloadModule = path.join(path.dirname(REGISTER_PATH), 'preload.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the preload's copy, by path
    const { preloaded } = require(preloadModule) as { preloaded: () => unknown };
    if (!preloaded()) throw new Error('started without the scanopy-metrics preload');
    if (Number(labelSets) > 0) throw new Error('label sets need the manual wiring');
  } else if (variant !== 'bare') {
    if (!(SUBJECT_NAMES as readonly string[]).includes(variant)) {
      throw new Error(`unknown variant "${variant}"`);
    }
    const create = await loadSubject(variant as SubjectName);
    const subject = create({ token: BENCH_TOKEN, cardinalityLimit: 20000 });
    for (let i = 0; i < Number(labelSets); i++) {
      subject.recordRequest('GET', labelSetPath(i), '200', 'anonymous', 0.01);
    }
    // First, as the preload puts the package's middleware first in every app.
    app.middleware.unshift(subject.middleware());
  }

  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    listening.once('error', reject);
  });
  // Under valgrind an event-loop turn can outlast Node's 5 s keep-alive timeout, whose timer then
  // closes a connection whose next request is already waiting (the client sees a reset). The
  // timer is re-armed per response whatever its length, so a longer one changes no figure.
  server.keepAliveTimeout = 600_000;

  let cpuStart: NodeJS.CpuUsage | undefined;
  let delay: IntervalHistogram | undefined;
  let cpuBlocks: CpuBlocks | undefined;
  serve(
    {
      start: (payload) => {
        const options = (payload ?? {}) as StartMeasure;
        delay?.disable();
        delay = undefined;
        cpuBlocks?.stop();
        cpuBlocks = undefined;
        if (options.eventLoop) {
          delay = monitorEventLoopDelay({ resolution: 1 });
          delay.enable();
          if (threadCpuUsage !== undefined) cpuBlocks = new CpuBlocks(() => threadCpuUsage());
        }
        cpuStart = process.cpuUsage();
      },
      stop: (): StopMeasure => {
        const cpu = process.cpuUsage(cpuStart);
        delay?.disable();
        const result: StopMeasure = {
          cpuMicros: cpu.user + cpu.system,
          eventLoopMaxMs: delay ? delay.max / 1e6 : undefined,
          eventLoopP99Ms: delay ? delay.percentile(99) / 1e6 : undefined,
          eventLoopBlocksOverLimit: delay ? samplesOver(delay, BLOCK_LIMIT_MS) : undefined,
          eventLoopMaxCpuMs: cpuBlocks?.stop(),
        };
        delay = undefined;
        cpuBlocks = undefined;
        return result;
      },
    },
    { port: (server.address() as AddressInfo).port } satisfies ServerInfo,
  );
}

main().catch(failStart);
