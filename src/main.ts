/** Entry point: read config, start, reload on SIGHUP, stop cleanly on SIGTERM/SIGINT. */
import cluster from 'node:cluster';
import { superviseWorkers } from './cluster.js';
import { loadConfig, type Config } from './config.js';
import { settingsFrom, type SettingsSource } from './config/env-file.js';
import { ConfigError } from './errors.js';
import { createLogger, exitAfterLogs } from './log.js';
import { startHub, type RunningHub } from './server.js';

// SIGHUP's default action ends the process: from the first line on it means "reload" (nginx's
// convention), and one that comes before the hub is up has nothing to reload yet (it starts with
// the files as they are then).
let onHangup = (): void => {};
process.on('SIGHUP', () => onHangup());

let settings: SettingsSource;
let config: Config;
try {
  settings = settingsFrom(process.env);
  config = loadConfig(settings.start);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`ssehub: bad configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.logLevel);
if (config.workers > 1 && cluster.isPrimary) onHangup = superviseWorkers(config, log).reload;
else await serve(config, settings);

async function serve(config: Config, settings: SettingsSource): Promise<void> {
  let running: RunningHub;
  try {
    running = await startHub(config, log, settings);
  } catch (err) {
    log.fatal({ err }, 'could not start');
    return exitAfterLogs(log, 1);
  }
  onHangup = () => void running.reload('SIGHUP').catch((err: unknown) => log.error({ err }, 'reload failed'));

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
