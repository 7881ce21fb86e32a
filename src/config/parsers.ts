/**
 * Parsers turn a variable's text (trimmed, never empty: an unset or blank variable takes its row's
 * default without being parsed) into its value, or throw ConfigError naming the variable.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export type Parser<T> = (text: string, variable: string) => T;

/** For the bounds of `int` on durations. */
export const HOUR_MS = 3_600_000;

export const text: Parser<string> = (value) => value;

/** For a setting whose default is "unset": the value is undefined unless the variable is set. */
export function optional<T>(parse: Parser<T>): Parser<T | undefined> {
  return parse;
}

export function int(min: number, max: number): Parser<number> {
  return (value, variable) => {
    if (!/^\d+$/.test(value)) throw new ConfigError(variable, `must be a whole number, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export const bool: Parser<boolean> = (value, variable) => {
  const lower = value.toLowerCase();
  if (lower === '1' || lower === 'true') return true;
  if (lower === '0' || lower === 'false') return false;
  throw new ConfigError(variable, `must be 1, 0, true or false, got "${lower}"`);
};

/** One of a fixed set of words; `expected` says which, in the error. */
export function oneOf<const V extends string>(values: readonly V[], expected = `one of ${values.join(', ')}`): Parser<V> {
  return (value, variable) => {
    if (!(values as readonly string[]).includes(value)) throw new ConfigError(variable, `must be ${expected}, got "${value}"`);
    return value as V;
  };
}

/**
 * A path whose file holds the value (a key mounted from a Kubernetes Secret, a Docker secret), read
 * at start and on every reload, and trimmed (`kubectl create secret --from-file` keeps a trailing newline), then
 * parsed by `parse`; every problem names the path's variable.
 */
export function fileContents<T>(parse: Parser<T>): Parser<T> {
  return (path, variable) => {
    let contents: string;
    try {
      contents = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(variable, `cannot be read (${(err as Error).message})`);
    }
    if (contents === '') throw new ConfigError(variable, `names an empty file (${path})`);
    return parse(contents, variable);
  };
}

/** Text that matches `pattern`; `problem` words the error for text that does not. */
export function matching(pattern: RegExp, problem: (value: string) => string): Parser<string> {
  return (value, variable) => {
    if (!pattern.test(value)) throw new ConfigError(variable, problem(value));
    return value;
  };
}

/** The check a problem-or-undefined validator (such as validateSubjectPrefix) makes, as a parser. */
export function checkedBy(problemOf: (value: string) => string | undefined): Parser<string> {
  return (value, variable) => {
    const problem = problemOf(value);
    if (problem) throw new ConfigError(variable, problem);
    return value;
  };
}

/** The empty list: the default of every list setting. */
export const NONE: readonly string[] = Object.freeze([]);

/** Comma-separated items, blanks dropped, each checked by `checkItems` (which sees them all, in order). */
export function list(checkItems: (items: readonly string[], variable: string) => void = () => {}): Parser<readonly string[]> {
  return (value, variable) => {
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    checkItems(items, variable);
    return Object.freeze(items);
  };
}
