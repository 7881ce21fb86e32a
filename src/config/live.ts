/**
 * Which settings a reload applies to a running hub: the rows marked `live` in the schema, and
 * nothing else. LiveConfig holds the configuration in force; what reads a live setting per request
 * reads it from there (or is told of the change by `onChange`), never from the start Config.
 */
import { anonymousRows, authRows, keyFileRows } from './auth.js';
import { corsRows } from './cors.js';
import { limitRows } from './limits.js';
import type { Config } from './schema.js';
import { SETTINGS_TABLES } from './schema.js';
import { serverRows } from './server.js';
import type { Env, Rows, Setting } from './setting.js';
import { streamRows } from './streams.js';

const liveKeysOf = (rows: Rows): string[] => Object.entries(rows).flatMap(([key, row]) => (row.live ? [key] : []));
const allLive = (...areas: Rows[]): boolean => areas.every((rows) => Object.values(rows).every((row) => row.live));

/**
 * The Config keys a reload replaces. Most areas fill one key per row; `auth` is one object filled
 * by authRows and keyFileRows together, so it is live only while all of those rows are.
 */
export const LIVE_KEYS: readonly (keyof Config)[] = Object.freeze([
  ...liveKeysOf(streamRows),
  ...liveKeysOf(anonymousRows),
  ...liveKeysOf(corsRows),
  ...liveKeysOf(limitRows),
  ...liveKeysOf(serverRows),
  ...(allLive(authRows, keyFileRows) ? ['auth'] : []),
] as (keyof Config)[]);

/** Every row a reload does not apply: a change to one is logged as ignored until a restart. */
export const FIXED_ROWS: readonly Setting<unknown>[] = Object.freeze(Object.values(SETTINGS_TABLES).flat().filter((row) => !row.live));

/** The variables among FIXED_ROWS whose text differs between two environments. */
export function fixedChanges(before: Env, after: Env): string[] {
  const text = (env: Env, row: Setting<unknown>): string => env[row.env]?.trim() ?? '';
  return FIXED_ROWS.filter((row) => text(before, row) !== text(after, row)).map((row) => row.env);
}

export type ConfigListener = (config: Config, changed: ReadonlySet<keyof Config>) => void;

/** The configuration in force: the start Config, with the live values of the last reload that was applied. */
export class LiveConfig {
  private value: Config;
  private readonly listeners: ConfigListener[] = [];

  constructor(start: Config) {
    this.value = start;
  }

  get current(): Config {
    return this.value;
  }

  /** `listener` runs after every apply that changed a live value, with the new Config and the keys that changed. */
  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /**
   * Take `next`'s live values (a whole Config, validated by loadConfig); its other values are
   * ignored, so the running hub keeps its port, bus and the rest. Returns the live keys that changed.
   */
  apply(next: Config): ReadonlySet<keyof Config> {
    const changed = new Set(LIVE_KEYS.filter((key) => !sameValue(this.value[key], next[key])));
    if (changed.size === 0) return changed;
    const merged: Record<string, unknown> = { ...this.value };
    for (const key of changed) merged[key] = next[key];
    this.value = Object.freeze(merged) as unknown as Config;
    for (const listener of this.listeners) listener(this.value, changed);
    return changed;
  }
}

/** Setting values are numbers, strings, booleans, lists of strings and the frozen `auth` object of those. */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

