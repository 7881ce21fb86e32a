/** Settings of the bus: which NATS servers (none: the embedded bus), and where topics live in NATS. */
import { validateSubjectPrefix } from '../topics/subject.js';
import { ConfigError } from '../errors.js';
import { checkedBy, int, list, NONE } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s]+$/;
const HOST_PORT = /^[\w.-]+:\d+$/;
// The userinfo of a URL (`user:password@`, `token@`), with or without a scheme.
const USERINFO = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/@]*@/i;

/** A NATS server as it may be written to a log or an error: credentials never are. */
export function redactCredentials(server: string): string {
  return server.replace(USERINFO, '$1***@');
}

export const busRows = {
  natsServers: setting({
    env: 'NATS_URL',
    default: NONE,
    parse: list((servers, variable) => {
      for (const server of servers) {
        if (!NATS_URL.test(server) && !HOST_PORT.test(server)) {
          throw new ConfigError(variable, `"${redactCredentials(server)}" is not a NATS URL (expected nats://host:port)`);
        }
      }
    }),
    doc: 'NATS server URL(s), comma-separated; unset means the embedded single-node bus',
  }),
  subjectPrefix: setting({ env: 'HUB_SUBJECT_PREFIX', default: 'sse', parse: checkedBy(validateSubjectPrefix), doc: 'topic `T` is bus subject `<prefix>.T`' }),
  // A frozen or partitioned NATS closes nothing: only unanswered PINGs reveal it. The hub calls it
  // gone, and /readyz answers 503, within interval × (max out + 1) of its last answer; the defaults
  // make that 15 s, two missed PINGs (10 s of silence) before a reconnect (docs/nats.md).
  natsPingIntervalMs: setting({
    env: 'HUB_NATS_PING_INTERVAL_MS',
    default: 5000,
    parse: int(100, 600_000),
    doc: 'how often the hub PINGs NATS; a NATS silent for `HUB_NATS_MAX_PINGS_OUT` PINGs counts as gone (not ready) within interval × (max + 1)',
  }),
  // Only `Sse-Event` is read, but the NATS client parses a header block in time quadratic in its
  // number of headers (4,000 take seconds), and with JetStream every hub reads every message: a block
  // past this size is dropped without being parsed (docs/nats.md, poison from the bus).
  busMaxHeaderBytes: setting({
    env: 'HUB_BUS_MAX_HEADER_BYTES',
    default: 8 * 1024,
    parse: int(64, 1024 * 1024),
    doc: 'largest NATS header block a bus message may carry; a larger one is dropped unparsed and counted (`headers-too-large`)',
  }),
  natsMaxPingsOut: setting({ env: 'HUB_NATS_MAX_PINGS_OUT', default: 2, parse: int(1, 100), doc: 'unanswered PINGs after which the NATS connection is stale: not ready, reconnect' }),
};

export type BusConfig = ValuesOf<typeof busRows>;
