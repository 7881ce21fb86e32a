/** Settings of event streams and the events they carry: topics, retry, heartbeat, slow consumers, age, count, event size. */
import { HOUR_MS, int } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

export const streamRows = {
  maxTopics: setting({ env: 'HUB_MAX_TOPICS', default: 16, parse: int(1, 1000), doc: 'most topics one stream may ask for' }),
  maxTopicLength: setting({ env: 'HUB_MAX_TOPIC_LENGTH', default: 256, parse: int(1, 4096), doc: 'longest topic, in characters' }),
  retryMs: setting({ env: 'HUB_RETRY_MS',
    live: true, default: 3000, parse: int(0, HOUR_MS), doc: 'reconnect delay sent to clients (`retry:`)' }),
  heartbeatMs: setting({
    env: 'HUB_HEARTBEAT_MS',
    live: true,
    default: 15_000,
    parse: int(100, HOUR_MS),
    doc: 'a stream silent for a whole interval gets a `:` comment line',
  }),
  maxBufferedBytes: setting({
    env: 'HUB_MAX_BUFFERED_BYTES',
    default: 256 * 1024,
    parse: int(1024, 1024 * 1024 * 1024),
    doc: 'unsent bytes per stream above which it is closed as a slow consumer (it then resumes from its last id)',
  }),
  maxConnectionAgeMs: setting({
    env: 'HUB_MAX_CONNECTION_AGE_MS',
    default: 0,
    parse: int(0, 7 * 24 * HOUR_MS),
    doc: 'end streams after this age (±10% jitter) so clients rebalance; 0 = never',
  }),
  maxConnections: setting({ env: 'HUB_MAX_CONNECTIONS',
    live: true, default: 50_000, parse: int(1, 10_000_000), doc: 'open streams above which new ones get `503`' }),
  maxEventBytes: setting({ env: 'HUB_MAX_EVENT_BYTES', default: 64 * 1024, parse: int(1, 64 * 1024 * 1024), doc: 'largest payload accepted by `POST /publish`' }),
  maxEventTypeLength: setting({ env: 'HUB_MAX_EVENT_TYPE_LENGTH', default: 128, parse: int(1, 4096), doc: 'longest event type' }),
};

export type StreamConfig = ValuesOf<typeof streamRows>;
