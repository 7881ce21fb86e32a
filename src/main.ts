/** Entry point: read config, start, stop cleanly on SIGTERM/SIGINT. */
import cluster from 'node:cluster';
import { superviseWorkers } from './cluster.js';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, exitAfterLogs } from './log.js';
import { startHub, type RunningHub } from './server.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`ssehub: bad configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.logLevel);
if (config.workers > 1 && cluster.isPrimary) superviseWorkers(config, log);
else await serve(config);

async function serve(config: Config): Promise<void> {
  let running: RunningHub;
  try {
    running = await startHub(config, log);
  } catch (err) {
    log.fatal({ err }, 'could not start');
    return exitAfterLogs(log, 1);
  }

  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      log.info({ signal }, 'shutting down');
      // The hard stop: whatever is still open when the timeout passes does not keep us alive.
      setTimeout(() => {
        log.warn('shutdown timed out; exiting');
        exitAfterLogs(log, 0);
      }, config.shutdownTimeoutMs + 1000).unref();
      running.shutdown().then(
        () => {
          log.info('stopped');
          exitAfterLogs(log, 0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          exitAfterLogs(log, 1);
        },
      );
    });
  }
}
