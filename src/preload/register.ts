/**
 * `node --require scanopy-metrics/register server.js`: metrics for an unmodified CommonJS Koa
 * service (`--import` loads register.mts, which adds the ES-module hook). This module only starts
 * the preload; it must never take the service down, so whatever goes wrong here is reported on
 * stderr and the service starts anyway. The off switch is read first, so that a disabled start
 * loads nothing else.
 */
import { disabledByEnvironment } from './switch';
import { PACKAGE_NAME } from '../version';

if (!disabledByEnvironment(process.env)) {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when enabled
    const { startPreload } = require('./preload') as typeof import('./preload');
    startPreload(process.env, process.cwd(), undefined, { reportUninstrumented: true });
  } catch (error) {
    process.stderr.write(
      `${PACKAGE_NAME}: the preload failed and metrics are off: ${(error as Error).message}\n`,
    );
  }
}
