import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** How long the last lines may take to reach stdout before the process exits without them (a stalled reader). */
const LAST_LINES_TIMEOUT_MS = 500;

type Destination = ReturnType<typeof pino.destination>;

interface Output {
  readonly destination: Destination;
  /** A write failed (EPIPE: the reader is gone): exit does not wait for lines that cannot arrive. */
  failed: boolean;
}

const outputs = new WeakMap<Logger, Output>();
let exiting = false;

/**
 * JSON logs on stdout. Nothing on the per-event path logs: only connection and lifecycle lines.
 * Written asynchronously, so a slow log reader never blocks the event loop; a failed write (a log
 * sidecar that died, `| head`) stops the logging, never the process: pino turns writes into no-ops
 * after EPIPE, and this listener keeps any other write error from crashing the hub.
 */
export function createLogger(level: LogLevel): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  const log = pino({ level, base: { service: 'ssehub' } }, destination);
  const output: Output = { destination, failed: false };
  destination.on('error', () => (output.failed = true));
  outputs.set(log, output);
  return log;
}

/**
 * Exits with `code` once every line logged so far is on stdout, or at most LAST_LINES_TIMEOUT_MS
 * later. Every exit goes through here: pino's own exit hook flushes synchronously, and that flush
 * retries a failed write every 100 ms forever (EPIPE included), so a broken pipe would keep the
 * process from ever exiting. The first call decides the code.
 */
export function exitAfterLogs(log: Logger, code: number): void {
  if (exiting) return;
  exiting = true;
  void writeLastLines(log).then(() => process.exit(code));
}

function writeLastLines(log: Logger): Promise<void> {
  const output = outputs.get(log);
  if (!output) return Promise.resolve();
  const { destination } = output;
  // Destroyed, the destination leaves the exit hook nothing to flush (after EPIPE, pino made both no-ops).
  if (output.failed) return Promise.resolve(destination.destroy());
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      destination.destroy();
      resolve();
    };
    const timer = setTimeout(done, LAST_LINES_TIMEOUT_MS);
    destination.once('close', done);
    destination.once('error', done);
    // Writes what is queued, then closes: 'close' means every line is out.
    destination.end();
  });
}
