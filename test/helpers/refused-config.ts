// A configuration the preload refuses: the service runs, the route answers 404, and what the
// preload wrote on stderr is returned for the test to read.
import { expect } from './chai';
import { Children, REQUIRE_PRELOAD, fixture } from './child';
import { InProcess } from './in-process';
import { get } from './preloaded-service';

/**
 * Starts the preload with `env` in `dir`, checks that the metrics route is off (404, even with
 * `token`), and returns the stderr lines: in a child process running the fixture service when
 * `inChild`, as users start theirs; in the test process otherwise, which is quicker.
 */
export async function refusedConfigLines(
  children: Children,
  run: InProcess,
  env: Record<string, string>,
  dir: string,
  token: string,
  inChild: boolean,
): Promise<string[]> {
  if (inChild) {
    const service = await children.start({
      fixture: fixture('service.cjs'),
      nodeArgs: REQUIRE_PRELOAD,
      env,
      cwd: dir,
    });
    expect((await get(service.url, '/api/v1/hosts/1')).status).to.equal(200);
    const scrape = await get(service.url, '/metrics', { Authorization: `Bearer ${token}` });
    expect(scrape.status).to.equal(404);
    await service.stop();
    return service.stderrLines();
  }
  const { preload, stderr } = run.start(env, dir);
  const url = await run.serve(preload);
  const scrape = await get(url, '/metrics', { Authorization: `Bearer ${token}` });
  expect(scrape.status).to.equal(404);
  return stderr;
}
