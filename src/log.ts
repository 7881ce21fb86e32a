import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** JSON logs on stdout. Nothing on the per-event path logs: only connection and lifecycle lines. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'ssehub' } });
}
