/** A logger whose lines a test can read: the hub's own log calls, written to memory instead of stdout. */
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import { waitFor } from './wait.js';

export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface CapturedLog {
  readonly log: Logger;
  /** Every line written so far, as written (JSON text). */
  readonly lines: readonly string[];
  records(): LogRecord[];
  /** Resolves with the first record whose message is `msg`. */
  waitForMessage(msg: string, timeoutMs?: number): Promise<LogRecord>;
}

/** pino's level number for `error`: a record at or above it is an error line. */
export const ERROR_LEVEL = 50;

export function captureLog(level: 'debug' | 'info' = 'debug'): CapturedLog {
  const lines: string[] = [];
  // Synchronous destination: each call's line is there when the call returns.
  const log = pino({ level, base: { service: 'ssehub' } }, { write: (line: string) => void lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as LogRecord);
  return {
    log,
    lines,
    records,
    waitForMessage: (msg, timeoutMs = 5000) => waitFor(`the log line ${JSON.stringify(msg)}`, () => records().find((r) => r.msg === msg), timeoutMs),
  };
}
