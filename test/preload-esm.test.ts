// `node --import scanopy-metrics/register server.mjs`: an unmodified ES-module Koa service
// (`import Koa from 'koa'`), in a child process, becomes scrapeable.
import { IMPORT_PRELOAD, fixture } from './helpers/child';
import { describePreloadedService } from './helpers/preloaded-service';

describePreloadedService('preload: ES-module service with --import', {
  fixture: fixture('service.mjs'),
  nodeArgs: IMPORT_PRELOAD,
});
