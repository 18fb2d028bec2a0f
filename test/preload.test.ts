// `node --require scanopy-metrics/register server.js`: an unmodified CommonJS Koa service, in a
// child process, becomes scrapeable.
import { REQUIRE_PRELOAD, fixture } from './helpers/child';
import { describePreloadedService } from './helpers/preloaded-service';

describePreloadedService('preload: CommonJS service with --require', {
  fixture: fixture('service.cjs'),
  nodeArgs: REQUIRE_PRELOAD,
});
