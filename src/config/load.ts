// The settings in force: environment over the configuration file over the built-in defaults.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_ENTITY_TYPE_KEY } from '../recorder/middleware';
import { DEFAULT_METRICS_PATH } from '../route/route';
import { readEnv } from './env';
import { readConfigFile } from './file';
import type { PartialSettings, Settings } from './types';

export const DEFAULT_CONFIG_FILE = 'otel-config.yaml';

export const DEFAULTS: Settings = {
  disabled: false,
  logLevel: 'info',
  tokens: [],
  path: DEFAULT_METRICS_PATH,
  entityTypeKey: DEFAULT_ENTITY_TYPE_KEY,
  authFailuresPerMinute: 30,
  resourceAttributes: {},
  withoutScopeInfo: true,
  withoutTargetInfo: false,
  cardinalityLimit: 2000,
  cardinalityLimitsByType: {},
  views: {},
  sdkViews: [],
  instrumentations: [],
  events: { entities: [], operations: [] },
};

/**
 * Resolves the settings: environment over file over built-in defaults. The file is
 * OTEL_CONFIG_FILE, else `otel-config.yaml` in the working directory if there is one.
 * With any problem, `problems` lists them all and `settings` are the defaults with the route off.
 */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { settings: Settings; problems: string[] } {
  const fromEnv = readEnv(env);
  const problems = [...fromEnv.problems];

  let fromFile: PartialSettings = {};
  const named = env.OTEL_CONFIG_FILE?.trim();
  const file = named ? resolve(cwd, named) : resolve(cwd, DEFAULT_CONFIG_FILE);
  if (named || existsSync(file)) {
    const read = readConfigFile(file, env);
    problems.push(...read.problems);
    fromFile = read.settings;
  }

  if (problems.length > 0) {
    // Whatever else was read, the route stays off until the configuration is fixed.
    return { settings: { ...DEFAULTS, disabled: fromEnv.settings.disabled ?? false }, problems };
  }
  const settings: Settings = { ...DEFAULTS, ...fromFile, ...fromEnv.settings };
  settings.resourceAttributes = {
    ...DEFAULTS.resourceAttributes,
    ...fromFile.resourceAttributes,
    ...fromEnv.settings.resourceAttributes,
  };
  return { settings, problems };
}
