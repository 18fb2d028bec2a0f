/**
 * `node --require scanopy-metrics/register server.js`: metrics for an unmodified CommonJS Koa
 * service (`--import` loads register.mts, which adds the ES-module hook). This module only starts
 * the preload; it must never take the service down, so whatever goes wrong here is reported on
 * stderr and the service starts anyway.
 */
import { startPreload } from './preload';
import { PACKAGE_NAME } from '../version';

try {
  startPreload(process.env, process.cwd(), undefined, { reportUninstrumented: true });
} catch (error) {
  process.stderr.write(
    `${PACKAGE_NAME}: the preload failed and metrics are off: ${(error as Error).message}\n`,
  );
}
