// Start-up cost: how long a tiny Koa app takes from `node` starting to the process exiting right
// after `listen`, bare and preloaded (--require, --import, and each with the off switch), in
// interleaved rounds, each variant a fresh process pinned to the server core. The goals: the
// preload adds at most 60 ms with --require, 120 ms with --import, 10 ms when disabled. What a
// variant adds is the median over rounds of its time minus its bare app's in the same round (the
// rounds are seconds apart, the machine's load is not), in wall time and in the process's CPU time
// (all its threads), which a neighbour's load disturbs less.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { canPin } from './children';
import { BENCH_TOKEN, REPO_ROOT, SERVER_CPU } from './constants';
import type { Sizes } from './options';
import { median, rotate, summarize } from './stats';
import { fixed, type Table } from './table';

const REGISTER_CJS = path.join(REPO_ROOT, 'dist', 'preload', 'register.js');
const REGISTER_ESM = path.join(REPO_ROOT, 'dist', 'preload', 'register.mjs');

/** The tiny app, as a CommonJS and as an ES module: koa, one middleware, listen, exit. */
const APP_BODY = `const app = new Koa();
app.use((ctx) => {
  ctx.body = 'ok';
});
const server = app.listen(0, '127.0.0.1', () => server.close());
`;

interface Apps {
  /** The service's directory, the working directory of every start. */
  dir: string;
  cjs: string;
  mjs: string;
  /** The ES-module app in a directory that has @eggjs/koa installed too. */
  mjsBesideEgg: string;
  /** Loaded first in every variant alike: writes the process's CPU time on fd 3 when it exits. */
  cpuReporter: string;
  remove(): void;
}

/** `node_modules/<name>` in `dir`: a link to the repository's copy. */
function install(dir: string, name: string): void {
  const link = path.join(dir, 'node_modules', ...name.split('/'));
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules', ...name.split('/')), link);
}

/**
 * The apps live outside the repository, in directories of their own whose node_modules hold koa
 * (links to the repository's copy): a Koa service has koa installed, not this repository's
 * devDependencies. The second directory also has @eggjs/koa, with which --import starts Node's
 * ES-module loader thread on a Node without synchronous module hooks (Egg 4's case).
 */
function writeApps(): Apps {
  const root = mkdtempSync(path.join(os.tmpdir(), 'scanopy-metrics-startup-'));
  const dir = path.join(root, 'koa-service');
  const besideEgg = path.join(root, 'egg-service');
  install(dir, 'koa');
  install(besideEgg, 'koa');
  install(besideEgg, '@eggjs/koa');
  const cjs = path.join(dir, 'app.cjs');
  const mjs = path.join(dir, 'app.mjs');
  const mjsBesideEgg = path.join(besideEgg, 'app.mjs');
  const cpuReporter = path.join(root, 'cpu-time.cjs');
  writeFileSync(cjs, `'use strict';\nconst Koa = require('koa');\n${APP_BODY}`);
  writeFileSync(mjs, `import Koa from 'koa';\n${APP_BODY}`);
  writeFileSync(mjsBesideEgg, `import Koa from 'koa';\n${APP_BODY}`);
  writeFileSync(
    cpuReporter,
    `'use strict';\nprocess.once('exit', () => {\n  const { user, system } = process.cpuUsage();\n  require('node:fs').writeSync(3, String((user + system) / 1000));\n});\n`,
  );
  return {
    dir,
    cjs,
    mjs,
    mjsBesideEgg,
    cpuReporter,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** The variant it is compared with. */
  base?: string;
  /** Most it may add to its base, in ms. */
  goalMs?: number;
}

function variants(apps: Apps): Variant[] {
  const on = { SCANOPY_METRICS_TOKEN: BENCH_TOKEN };
  return [
    { name: 'bare (CommonJS)', args: [apps.cjs], env: {} },
    {
      name: '--require',
      args: ['--require', REGISTER_CJS, apps.cjs],
      env: on,
      base: 'bare (CommonJS)',
      goalMs: 60,
    },
    {
      name: '--require, disabled',
      args: ['--require', REGISTER_CJS, apps.cjs],
      env: { ...on, SCANOPY_METRICS_DISABLED: 'true' },
      base: 'bare (CommonJS)',
      goalMs: 10,
    },
    { name: 'bare (ES module)', args: [apps.mjs], env: {} },
    {
      name: '--import',
      args: ['--import', REGISTER_ESM, apps.mjs],
      env: on,
      base: 'bare (ES module)',
      goalMs: 120,
    },
    {
      name: '--import, @eggjs/koa installed',
      args: ['--import', REGISTER_ESM, apps.mjsBesideEgg],
      env: on,
      base: 'bare (ES module)',
    },
    {
      name: '--import, disabled',
      args: ['--import', REGISTER_ESM, apps.mjs],
      env: { ...on, SCANOPY_METRICS_DISABLED: 'true' },
      base: 'bare (ES module)',
      goalMs: 10,
    },
  ];
}

/** The environment of a start: this one's without SCANOPY_ and OTEL_ variables, plus the variant's. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(SCANOPY_|OTEL_)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

interface Start {
  /** Wall milliseconds from spawning node to its exit. */
  wall: number;
  /** CPU milliseconds of the process, user and system, all threads. */
  cpu: number;
}

/** One start of `variant`; fails on a non-zero exit or any stderr. */
function timeOneStart(variant: Variant, apps: Apps, pinned: boolean): Promise<Start> {
  const nodeArgs = ['--require', apps.cpuReporter, ...variant.args];
  const [command, args] = pinned
    ? ['taskset', ['-c', String(SERVER_CPU), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: apps.dir,
      env: childEnv(variant.env),
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let cpu = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => (cpu += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wall = performance.now() - started;
      child.once('close', () => {
        if (code !== 0 || stderr !== '' || !Number.isFinite(Number(cpu)) || cpu === '') {
          reject(new Error(`${variant.name}: exit code ${code}, stderr: ${stderr}`));
        } else resolve({ wall, cpu: Number(cpu) });
      });
    });
  });
}

export async function startup(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const apps = writeApps();
  const all = variants(apps);
  const pinned = canPin();
  const rounds = sizes.quick ? 3 : Math.max(25, sizes.rounds);
  const samples = new Map<string, Start[]>(all.map((v) => [v.name, []]));
  try {
    // One uncounted round first: the file system cache, not the package, is what it measures.
    for (let round = -1; round < rounds; round++) {
      for (const variant of rotate(all, round + 1)) {
        const start = await timeOneStart(variant, apps, pinned);
        if (round >= 0) samples.get(variant.name)!.push(start);
      }
      if (round >= 0 && (round + 1) % 5 === 0) progress(`startup: round ${round + 1}/${rounds}`);
    }
  } finally {
    apps.remove();
  }
  /** Median over rounds of the variant's figure minus its base's in the same round. */
  const added = (v: Variant, key: keyof Start): number => {
    const base = samples.get(v.base!)!;
    return median(samples.get(v.name)!.map((s, i) => s[key] - base[i][key]));
  };
  const rows = all.map((v) => {
    const wall = summarize(samples.get(v.name)!.map((s) => s.wall));
    const cpu = summarize(samples.get(v.name)!.map((s) => s.cpu));
    const plus = (ms: number): string => `${ms >= 0 ? '+' : ''}${fixed(ms)}`;
    return [
      v.name,
      fixed(wall.median),
      fixed(wall.min),
      fixed(wall.max),
      v.base ? plus(added(v, 'wall')) : '',
      fixed(cpu.median),
      v.base ? plus(added(v, 'cpu')) : '',
    ];
  });
  return {
    title: 'start-up: a tiny Koa app from node starting to its exit after listen (ms)',
    notes: [
      `${rounds} interleaved rounds (one uncounted round first), each start a fresh process${pinned ? ` pinned to CPU ${SERVER_CPU}` : ''}`,
      'added = median over rounds of (variant − its bare app in the same round); CPU = user + system time of the process, all threads',
      'the preload with a token configured (the route on); disabled: SCANOPY_METRICS_DISABLED=true',
      'the apps in a directory whose node_modules has koa; "@eggjs/koa installed": has @eggjs/koa too (on a Node without module.registerHooks, --import then starts the ES-module loader thread)',
    ],
    columns: ['variant', 'wall median', 'min', 'max', 'added', 'CPU median', 'CPU added'],
    rows,
    goals: all
      .filter((v) => v.base && v.goalMs !== undefined)
      .map((v) => {
        const wall = added(v, 'wall');
        return {
          text: `${v.name} adds ≤ ${v.goalMs} ms to ${v.base}`,
          measured: `${fixed(wall)} ms (CPU ${fixed(added(v, 'cpu'))} ms)`,
          met: Number.isFinite(wall) ? wall <= v.goalMs! : undefined,
        };
      }),
  };
}
