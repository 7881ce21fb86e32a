/**
 * A row of the settings schema, and reading rows from the environment. Each area of the hub
 * (server.ts, bus.ts, ...) states its settings as rows keyed by the Config key they fill; the Config
 * type, the validation and README's tables are all derived from those rows.
 */
import type { Parser } from './parsers.js';

export interface Setting<T> {
  /** The environment variable. */
  readonly env: string;
  /** The value when the variable is unset or blank; README shows it. */
  readonly default: T;
  /** Turns the variable's trimmed text into the value, or throws ConfigError naming the variable. */
  readonly parse: Parser<T>;
  /** What it does, in one line of README's settings table. */
  readonly doc: string;
  /**
   * A reload (SIGHUP, a watched file's change; src/reload/) applies a new value to the running hub.
   * Rows without it keep their start value until a restart, and a reload that changes them says so.
   */
  readonly live?: true;
}

/** Rows keyed by the Config key each one fills. */
export type Rows = { readonly [key: string]: Setting<unknown> };

/** The values a set of rows reads into: the area's part of Config. */
export type ValuesOf<R extends Rows> = { readonly [K in keyof R]: R[K] extends Setting<infer T> ? T : never };

export type Env = Readonly<Record<string, string | undefined>>;

/** A row; its value type comes from the parser, and the default must be one. */
export function setting<const E extends string, T>(row: {
  readonly env: E;
  readonly default: NoInfer<T>;
  readonly parse: Parser<T>;
  readonly doc: string;
  readonly live?: true;
}): Setting<T> & { readonly env: E } {
  return Object.freeze(row);
}

/** Whether the user set the variable: only such values can conflict with another setting. */
export function isSet(env: Env, row: Setting<unknown>): boolean {
  return (env[row.env]?.trim() ?? '') !== '';
}

export function readSetting<T>(env: Env, row: Setting<T>): T {
  const value = env[row.env]?.trim() ?? '';
  return value === '' ? row.default : row.parse(value, row.env);
}

export function readRows<R extends Rows>(env: Env, rows: R): ValuesOf<R> {
  const values: Record<string, unknown> = {};
  for (const [key, row] of Object.entries(rows)) values[key] = readSetting(env, row);
  return values as ValuesOf<R>;
}
