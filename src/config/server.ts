/** Settings of the process: where it listens, how many workers it runs, the demo page, the log level. */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';
import { busRows } from './bus.js';
import { bool, int, oneOf, text, type Parser } from './parsers.js';
import { readRows, setting, type Env, type ValuesOf } from './setting.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const workerCount: Parser<number> = (value, variable) => {
  const workers = int(0, 256)(value, variable);
  return workers === 0 ? availableParallelism() : workers;
};

export const serverRows = {
  host: setting({ env: 'HOST', default: '0.0.0.0', parse: text, doc: 'interface to listen on' }),
  port: setting({ env: 'PORT', default: 8080, parse: int(0, 65535), doc: 'TCP port (0 picks a free one)' }),
  demo: setting({ env: 'HUB_DEMO', default: true, parse: bool, doc: 'serve the demo page at `/` and its figures at `/demo/stats`' }),
  // Each worker has its own bus subscriptions and its own event ids (src/cluster.ts), so a resume that
  // lands on another worker gets hub.reset unless ids are shared (JetStream).
  workers: setting({
    env: 'HUB_WORKERS',
    default: 1,
    parse: workerCount,
    doc: 'hub processes sharing the port (node:cluster), 0 = one per core; more than one needs `NATS_URL`, and only JetStream keeps resumes exact across workers ([docs/multi-core.md](docs/multi-core.md))',
  }),
  logLevel: setting({ env: 'LOG_LEVEL',
    live: true, default: 'info', parse: oneOf(LOG_LEVELS), doc: 'pino level: `fatal` … `trace`, or `silent`' }),
};

export type ServerConfig = ValuesOf<typeof serverRows>;

export function loadServer(env: Env, natsServers: readonly string[]): ServerConfig {
  const server = readRows(env, serverRows);
  if (server.workers > 1 && natsServers.length === 0) {
    throw new ConfigError(
      serverRows.workers.env,
      `must be 1 without ${busRows.natsServers.env} (got ${server.workers}): with the embedded bus a worker sees only the events published to itself`,
    );
  }
  return server;
}
