// The preload started inside the test process (`startPreload(env, cwd, stderr)`), with its route
// and middleware served by a Koa app over real HTTP, for configuration tests that need no child.
import { diag } from '@opentelemetry/api';
import Koa from 'koa';
import { startPreload } from 'scanopy-metrics';
import type { Preload } from 'scanopy-metrics';

import { makeTempDir, removeTempDir } from './child';
import { listen } from './server';
import type { ListeningServer } from './server';

export interface Started {
  preload: Preload;
  /** The lines the preload wrote to its stderr. */
  stderr: string[];
}

/** Starts and stops preloads, apps and temporary directories for one suite. */
export class InProcess {
  private readonly preloads: Preload[] = [];
  private readonly servers: ListeningServer[] = [];
  private readonly dirs: string[] = [];

  tempDir(): string {
    const dir = makeTempDir();
    this.dirs.push(dir);
    return dir;
  }

  /** `startPreload(env, cwd)`; the cwd is an empty temporary directory unless given. */
  start(env: NodeJS.ProcessEnv, cwd: string = this.tempDir()): Started {
    const stderr: string[] = [];
    const preload = startPreload(env, cwd, (line) => stderr.push(line));
    // A test may stop it itself; stopAll() must not shut the provider down a second time.
    const stop = preload.stop.bind(preload);
    let stopped: Promise<void> | undefined;
    preload.stop = () => (stopped ??= stop());
    this.preloads.push(preload);
    return { preload, stderr };
  }

  /**
   * A Koa app with the preload's first middleware in front (as the koa patch puts it), then
   * `mount`, served on loopback.
   */
  async serve(preload: Preload, mount: (app: Koa) => void = () => undefined): Promise<string> {
    if (preload.metrics === undefined) throw new Error('the preload started no metrics');
    const app = new Koa();
    app.use(preload.metrics.firstMiddleware());
    mount(app);
    const server = await listen(app);
    this.servers.push(server);
    return server.url;
  }

  async stopAll(): Promise<void> {
    for (const server of this.servers.splice(0)) await server.close();
    for (const preload of this.preloads.splice(0)) await preload.stop();
    for (const dir of this.dirs.splice(0)) removeTempDir(dir);
    // startPreload installs a console logger for OTel's diagnostics; leave none behind.
    diag.disable();
  }
}
