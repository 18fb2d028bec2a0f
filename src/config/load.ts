// The settings in force: environment over the configuration file over the built-in defaults.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_ENTITY_TYPE_KEY } from '../recorder/middleware';
import { DEFAULT_METRICS_PATH } from '../route/route';
import { DEFAULT_MAX_CONCURRENT_SCRAPES, DEFAULT_SCRAPE_TIMEOUT_MS } from '../route/scrape-slots';
import { TOKEN_FILE_MAX_BYTES } from '../auth/token-file';
import { readRegularFileSync } from '../files/regular-file';
import { DEFAULT_CARDINALITY_LIMIT } from '../series/series-map';
import { DEFAULT_MAX_NEW_ENTITIES, DEFAULT_MAX_NEW_OPERATIONS } from '../labels/event-labels';
import { DEFAULT_CLUSTER, readEnv } from './env';
import { resolveExports } from './exporters';
import { redact } from './redact';
import type { ExportSettings } from './exporters';
import type { PartialSettings, Settings } from './types';

export const DEFAULT_CONFIG_FILE = 'otel-config.yaml';

export const DEFAULTS: Settings = {
  disabled: false,
  logLevel: 'info',
  tokens: [],
  path: DEFAULT_METRICS_PATH,
  entityTypeKey: DEFAULT_ENTITY_TYPE_KEY,
  authFailuresPerMinute: 30,
  maxConcurrentScrapes: DEFAULT_MAX_CONCURRENT_SCRAPES,
  scrapeTimeoutMs: DEFAULT_SCRAPE_TIMEOUT_MS,
  resourceAttributes: {},
  withoutScopeInfo: true,
  withoutTargetInfo: false,
  cardinalityLimit: DEFAULT_CARDINALITY_LIMIT,
  cardinalityLimitsByType: {},
  views: {},
  sdkViews: [],
  instrumentations: [],
  durationEntityType: false,
  events: { entities: [], operations: [] },
  maxNewEntities: DEFAULT_MAX_NEW_ENTITIES,
  maxNewOperations: DEFAULT_MAX_NEW_OPERATIONS,
  cluster: { ...DEFAULT_CLUSTER },
  exports: { prometheus: true, push: [] },
};

/** The entries of a token list (a variable or a token file), valid or not. */
function tokenEntries(text: string | undefined): string[] {
  if (text === undefined) return [];
  return [text.trim(), ...text.split(/[,\n]/).map((t) => t.trim())].filter((t) => t !== '');
}

/** Everything a message must not quote: the configured tokens, however they were given. */
function configuredSecrets(env: Record<string, string | undefined>, cwd: string): string[] {
  const secrets = tokenEntries(env.SCANOPY_METRICS_TOKEN);
  const tokenFile = env.SCANOPY_METRICS_TOKEN_FILE?.trim();
  if (tokenFile) {
    const read = readRegularFileSync(resolve(cwd, tokenFile), TOKEN_FILE_MAX_BYTES);
    if ('text' in read) secrets.push(...tokenEntries(read.text));
  }
  return secrets;
}

/**
 * Resolves the settings: environment over file over built-in defaults. The file is
 * OTEL_CONFIG_FILE, else `otel-config.yaml` in the working directory if there is one.
 * With any problem, `problems` lists them all and `settings` are the defaults with the route off.
 * No problem quotes a configured token, or a value substituted from a secret-looking variable.
 */
export function loadSettings(
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): { settings: Settings; problems: string[] } {
  const fromEnv = readEnv(env);
  const problems = [...fromEnv.problems];

  let fromFile: PartialSettings & { fileExports?: ExportSettings } = {};
  const named = env.OTEL_CONFIG_FILE?.trim();
  const file = named ? resolve(cwd, named) : resolve(cwd, DEFAULT_CONFIG_FILE);
  const secrets: string[] = [];
  if (named || existsSync(file)) {
    // The YAML parser is loaded only for a file: most services configure by environment alone.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readConfigFile } = require('./file') as typeof import('./file');
    const read = readConfigFile(file, env, named ? 'OTEL_CONFIG_FILE' : undefined);
    problems.push(...read.problems);
    fromFile = read.settings;
    secrets.push(...read.secrets);
  }

  if (problems.length > 0) {
    // A message quotes what it got, unless that holds a secret.
    secrets.push(...configuredSecrets(env, cwd));
    for (let i = 0; i < problems.length; i++) problems[i] = redact(problems[i], secrets);
    // Whatever else was read, the route stays off until the configuration is fixed.
    return { settings: { ...DEFAULTS, disabled: fromEnv.settings.disabled ?? false }, problems };
  }
  const { fileExports, ...fileSettings } = fromFile;
  const settings: Settings = { ...DEFAULTS, ...fileSettings, ...fromEnv.settings };
  settings.exports = resolveExports(fromEnv.exports, fileExports);
  settings.resourceAttributes = {
    ...DEFAULTS.resourceAttributes,
    ...fromFile.resourceAttributes,
    ...fromEnv.settings.resourceAttributes,
  };
  return { settings, problems };
}
