/**
 * JetStream mode: a switch, the stream the hub provisions (and reads history from), and how far back
 * one resume may read. The stream's settings are read only in JetStream mode.
 */
import { ConfigError } from '../errors.js';
import { busRows, type BusConfig } from './bus.js';
import { bool, HOUR_MS, int, matching, oneOf } from './parsers.js';
import { readRows, readSetting, setting, type Env, type ValuesOf } from './setting.js';

export const jetStreamSwitch = setting({ env: 'HUB_JETSTREAM', default: false, parse: bool, doc: '`1`/`true`: JetStream mode (needs `NATS_URL`)' });

export const jetStreamRows = {
  stream: setting({
    env: 'HUB_JETSTREAM_STREAM',
    default: 'SSEHUB',
    parse: matching(/^[A-Za-z0-9_-]{1,64}$/, (name) => `must be 1-64 letters, digits, _ or -, got "${name}"`),
    doc: 'stream name',
  }),
  maxMsgs: setting({ env: 'HUB_JETSTREAM_MAX_MSGS', default: 1_000_000, parse: int(1, Number.MAX_SAFE_INTEGER), doc: 'stream limit: messages' }),
  maxBytes: setting({ env: 'HUB_JETSTREAM_MAX_BYTES', default: 1024 * 1024 * 1024, parse: int(1024, Number.MAX_SAFE_INTEGER), doc: 'stream limit: bytes' }),
  maxAgeMs: setting({ env: 'HUB_JETSTREAM_MAX_AGE_MS', default: 24 * HOUR_MS, parse: int(1000, 365 * 24 * HOUR_MS), doc: 'stream limit: age' }),
  replicas: setting({ env: 'HUB_JETSTREAM_REPLICAS', default: 1, parse: int(1, 5), doc: 'replicas when the hub creates the stream' }),
  storage: setting({
    env: 'HUB_JETSTREAM_STORAGE',
    default: 'file',
    parse: oneOf(['file', 'memory'], 'file or memory'),
    doc: '`file` or `memory`, when the hub creates the stream',
  }),
  duplicateWindowMs: setting({
    env: 'HUB_JETSTREAM_DUPLICATE_WINDOW_MS',
    default: 120_000,
    parse: int(100, 7 * 24 * HOUR_MS),
    doc: 'how long `Nats-Msg-Id` de-duplicates',
  }),
  // Each pull is a request nats-server parses and queues: the client library's default (100, asking
  // again for 25 whenever 75 are left) is one pull per 25 events, several hundred a second per
  // worker under load (docs/nats.md).
  liveBatch: setting({
    env: 'HUB_JETSTREAM_LIVE_BATCH',
    default: 1000,
    parse: int(10, 100_000),
    doc: 'events the live feed may have in flight from the stream; it asks for more when three quarters are left',
  }),
  historyMaxConcurrentReads: setting({
    env: 'HUB_HISTORY_MAX_CONCURRENT_READS',
    default: 4,
    parse: int(1, 1024),
    doc: 'history reads against the stream at once (each a consumer on the server); more resumes wait, and those with the same topics and Last-Event-ID share one read',
  }),
  publishTimeoutMs: setting({
    env: 'HUB_JETSTREAM_PUBLISH_TIMEOUT_MS',
    default: 5000,
    parse: int(100, 60_000),
    doc: 'a publish not acknowledged in time answers `504` (`publish_outcome_unknown`): retry it under its `msgId`',
  }),
};

export const historyRows = {
  historyMaxEvents: setting({
    env: 'HUB_HISTORY_MAX_EVENTS',
    default: 10_000,
    parse: int(0, 10_000_000),
    doc: 'most events one resume reads back from the stream (past it: `hub.reset`, `too-far-behind`)',
  }),
};

export interface JetStreamSettings extends ValuesOf<typeof jetStreamRows> {
  /** `<prefix>.>`: the subjects the stream holds. */
  readonly subjects: string;
}

export interface JetStreamConfig extends ValuesOf<typeof historyRows> {
  /** JetStream mode settings; undefined in the embedded and core NATS modes. */
  readonly jetstream: JetStreamSettings | undefined;
}

export function loadJetStream(env: Env, bus: BusConfig): JetStreamConfig {
  return { jetstream: jetStreamSettings(env, bus), ...readRows(env, historyRows) };
}

function jetStreamSettings(env: Env, bus: BusConfig): JetStreamSettings | undefined {
  if (!readSetting(env, jetStreamSwitch)) return undefined;
  if (bus.natsServers.length === 0) {
    throw new ConfigError(jetStreamSwitch.env, `needs ${busRows.natsServers.env}: JetStream lives in a NATS server`);
  }
  return Object.freeze({ ...readRows(env, jetStreamRows), subjects: `${bus.subjectPrefix}.>` });
}
