// The Prometheus exporter's keys under every name the OTel configuration schema gave them:
// file_format 1.1 says `scope_info_enabled` and `target_info_enabled/development` (true: written),
// 1.0 said `without_scope_info` and `without_target_info/development` (true: left out), and the
// 1.0 release candidates `without_target_info`.

export interface RenamedKey {
  /** The schema's current name; true means the labels or the metric are written. */
  current: string;
  /** Former names, newest first; true means they are left out. */
  former: readonly string[];
}

export const SCOPE_INFO: RenamedKey = {
  current: 'scope_info_enabled',
  former: ['without_scope_info'],
};

export const TARGET_INFO: RenamedKey = {
  current: 'target_info_enabled/development',
  former: ['without_target_info/development', 'without_target_info'],
};

export const EXPORTER_KEYS: readonly RenamedKey[] = [SCOPE_INFO, TARGET_INFO];

const COUNT = ['', 'one', 'two', 'three'];

/**
 * Whether the section leaves the thing out (`without`), read from whichever name it uses. A
 * section giving two names of one key is a problem even when they agree: which one was meant to
 * win would be a guess.
 */
export function readWithout(
  section: Readonly<Record<string, unknown>>,
  key: RenamedKey,
): { without?: boolean; problem?: string } {
  const names = [key.current, ...key.former].filter((name) => section[name] !== undefined);
  if (names.length === 0) return {};
  if (names.length > 1) {
    const list = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    return {
      problem: `${list} are ${COUNT[names.length]} names of one key; keep only ${key.current}`,
    };
  }
  const value = section[names[0]] === true;
  return { without: names[0] === key.current ? !value : value };
}
