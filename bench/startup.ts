// Start-up cost: how long a tiny Koa app takes from `node` starting to the process exiting right
// after `listen`, bare and preloaded (--require, --import, and --require with the off switch),
// in interleaved rounds, each variant a fresh process pinned to the server core. The goals: the
// preload adds at most 60 ms with --require, 120 ms with --import, 10 ms when disabled.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canPin } from './children';
import { BENCH_TOKEN, REPO_ROOT, SERVER_CPU } from './constants';
import type { Sizes } from './options';
import { rotate, summarize, type Summary } from './stats';
import { fixed, type Table } from './table';

const APP_DIR = path.join(REPO_ROOT, 'build', 'bench', 'startup-apps');
const REGISTER_CJS = path.join(REPO_ROOT, 'dist', 'preload', 'register.js');
const REGISTER_ESM = path.join(REPO_ROOT, 'dist', 'preload', 'register.mjs');

/** The tiny app, as a CommonJS and as an ES module: koa, one middleware, listen, exit. */
const APP_BODY = `const app = new Koa();
app.use((ctx) => {
  ctx.body = 'ok';
});
const server = app.listen(0, '127.0.0.1', () => server.close());
`;

function writeApps(): { cjs: string; mjs: string } {
  mkdirSync(APP_DIR, { recursive: true });
  const cjs = path.join(APP_DIR, 'app.cjs');
  const mjs = path.join(APP_DIR, 'app.mjs');
  writeFileSync(cjs, `'use strict';\nconst Koa = require('koa');\n${APP_BODY}`);
  writeFileSync(mjs, `import Koa from 'koa';\n${APP_BODY}`);
  return { cjs, mjs };
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

function variants(apps: { cjs: string; mjs: string }): Variant[] {
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

/** Milliseconds from spawning node to its exit; fails on a non-zero exit or any stderr. */
function timeOneStart(variant: Variant, pinned: boolean): Promise<number> {
  const [command, args] = pinned
    ? ['taskset', ['-c', String(SERVER_CPU), process.execPath, ...variant.args]]
    : [process.execPath, variant.args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: APP_DIR,
      env: childEnv(variant.env),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 || stderr !== '') {
        reject(new Error(`${variant.name}: exit code ${code}, stderr: ${stderr}`));
      } else resolve(ms);
    });
  });
}

export async function startup(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  const apps = writeApps();
  const all = variants(apps);
  const pinned = canPin();
  const rounds = sizes.quick ? 3 : 15;
  const samples = new Map<string, number[]>(all.map((v) => [v.name, []]));
  // One uncounted round first: the file system cache, not the package, is what it measures.
  for (let round = -1; round < rounds; round++) {
    for (const variant of rotate(all, round + 1)) {
      const ms = await timeOneStart(variant, pinned);
      if (round >= 0) samples.get(variant.name)!.push(ms);
    }
    if (round >= 0) progress(`startup: round ${round + 1}/${rounds}`);
  }
  const stats = new Map<string, Summary>(
    [...samples].map(([name, values]) => [name, summarize(values)]),
  );
  const rows = all.map((v) => {
    const s = stats.get(v.name)!;
    const added = v.base ? s.median - stats.get(v.base)!.median : undefined;
    return [
      v.name,
      fixed(s.median),
      fixed(s.min),
      fixed(s.max),
      added === undefined ? '' : `${added >= 0 ? '+' : ''}${fixed(added)}`,
      v.base ? `${fixed(s.median / stats.get(v.base)!.median, 2)} ×` : '',
    ];
  });
  return {
    title: 'start-up: a tiny Koa app from node starting to its exit after listen (ms)',
    notes: [
      `median of ${rounds} interleaved rounds (one uncounted round first), each start a fresh process${pinned ? ` pinned to CPU ${SERVER_CPU}` : ''}`,
      'the preload with a token configured (the route on); disabled: SCANOPY_METRICS_DISABLED=true',
    ],
    columns: ['variant', 'median', 'min', 'max', 'added', 'ratio'],
    rows,
    goals: all
      .filter((v) => v.base && v.goalMs !== undefined)
      .map((v) => {
        const added = stats.get(v.name)!.median - stats.get(v.base!)!.median;
        return {
          text: `${v.name} adds ≤ ${v.goalMs} ms to ${v.base}`,
          measured: `${fixed(added)} ms`,
          met: Number.isFinite(added) ? added <= v.goalMs! : undefined,
        };
      }),
  };
}
