// Starting the measured processes: a server variant pinned to the server's core, the load
// generator pinned to the other one.
import path from 'node:path';
import { Child, type ChildOptions } from './children';
import { BENCH_TOKEN, LOAD_CPU, REGISTER_PATH, SERVER_CPU } from './constants';
import { createHost } from './http';
import type { ServerInfo } from './server-child';

export type ServerVariant = 'bare' | 'scanopy-metrics' | 'prom-client' | 'otel-sdk';

export interface BenchServer {
  variant: ServerVariant;
  child: Child<ServerInfo>;
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** The URL the load generator requests: GET /api/v1/hosts/<id of a host that exists>. */
  url: string;
  /** Whether it serves /metrics (all but bare). */
  hasMetricsRoute: boolean;
}

/**
 * The environment of a server child: the caller's, minus any OTel or scanopy-metrics setting that
 * would change what is measured, plus the token when the preload is used.
 */
function serverEnv(preload: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OTEL_') && !key.startsWith('SCANOPY_')) env[key] = value;
  }
  if (preload) env.SCANOPY_METRICS_TOKEN = BENCH_TOKEN;
  return env;
}

/**
 * Starts a server child and creates the host it will be asked for. `scanopy-metrics` without
 * label sets is started exactly as the preload is meant to be used: `node --require
 * <repo>/dist/preload/register.js` with SCANOPY_METRICS_TOKEN set, so the real preload path is measured.
 * With label sets it is wired by hand (the preload's default cardinality limit is 2000).
 */
export async function startServer(
  variant: ServerVariant,
  labelSets = 0,
  under: Pick<ChildOptions, 'wrapper' | 'readyTimeoutMs' | 'nodeArgs'> = {},
): Promise<BenchServer> {
  const preload = variant === 'scanopy-metrics' && labelSets === 0;
  const { nodeArgs = [], ...rest } = under;
  const child = await Child.start<ServerInfo>({
    name: `server ${variant}`,
    module: path.join(__dirname, 'server-child.js'),
    args: [variant, preload ? 'preload' : 'manual', String(labelSets)],
    nodeArgs: [...nodeArgs, ...(preload ? ['--require', REGISTER_PATH] : [])],
    cpu: SERVER_CPU,
    env: serverEnv(preload),
    ...rest,
  });
  try {
    const base = `http://127.0.0.1:${child.info.port}`;
    const url = await createHost(base);
    return { variant, child, base, url, hasMetricsRoute: variant !== 'bare' };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

export function startLoadGenerator(): Promise<Child> {
  return Child.start({
    name: 'load generator',
    module: path.join(__dirname, 'load-child.js'),
    cpu: LOAD_CPU,
  });
}
