/**
 * Where settings come from: the process environment, with HUB_CONFIG_FILE's values over it. The
 * environment of a running process cannot change, so the file is what a reload (src/reload/) reads
 * anew; it is read the same way at start, so a hub restarted later starts as it was reloaded.
 *
 * The file holds `NAME=value` lines as Docker's `--env-file` and a Kubernetes ConfigMap key do:
 * blank lines and lines starting with `#` are skipped, the value is the rest of the line after the
 * first `=`, trimmed, and a value wrapped in one pair of matching quotes loses them. Only the
 * hub's own settings may appear, so a misspelt name is an error instead of a setting that silently
 * never applies.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { reloadRows } from './reload.js';
import { DEFAULTS } from './schema.js';
import type { Env } from './setting.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// The file is read in one piece on every reload; an env file of settings is a few KB.
const MAX_FILE_BYTES = 1024 * 1024;

/** `env` with the values of the file HUB_CONFIG_FILE names (when it is set) over it. */
export function readEnvironment(env: Env): Env {
  const path = env[reloadRows.configFile.env]?.trim() ?? '';
  if (path === '') return env;
  return Object.freeze({ ...env, ...parseEnvFile(readConfigFile(path)) });
}

function readConfigFile(path: string): string {
  const variable = reloadRows.configFile.env;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `cannot be read (${(err as Error).message})`);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new ConfigError(variable, `names a file larger than ${MAX_FILE_BYTES} bytes (${path})`);
  return text;
}

/** The variables of an env file's text; a bad line is a ConfigError naming HUB_CONFIG_FILE and the line number. */
export function parseEnvFile(text: string): Record<string, string> {
  const variable = reloadRows.configFile.env;
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const name = (at < 0 ? line : line.slice(0, at)).trim();
    const where = `line ${index + 1}`;
    if (at < 0 || !NAME.test(name)) throw new ConfigError(variable, `${where}: expected NAME=value, got ${JSON.stringify(line.slice(0, 80))}`);
    if (name === variable) throw new ConfigError(variable, `${where}: the file cannot name another config file`);
    if (!(name in DEFAULTS)) throw new ConfigError(variable, `${where}: ${name} is not a setting of the hub (README lists them)`);
    values[name] = unquote(line.slice(at + 1).trim());
  }
  return values;
}

function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1);
  return value;
}

/** Where a hub's settings are read: once at start, and again by every reload. */
export interface SettingsSource {
  /** The settings the hub started with. */
  readonly start: Env;
  /** The settings now; throws ConfigError when HUB_CONFIG_FILE cannot be read or holds a bad line. */
  read(): Env;
}

/** `env` (the process environment, or a test's) with HUB_CONFIG_FILE read over it, now and on every read. */
export function settingsFrom(env: Env): SettingsSource {
  return { start: readEnvironment(env), read: () => readEnvironment(env) };
}
