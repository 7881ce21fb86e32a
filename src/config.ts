/**
 * Every setting of the hub, read from the environment once at start, validated, and frozen.
 * A bad value stops the process with a one-line error that names the variable.
 * The DEFAULTS table below is the one place each default lives; README.md lists the same table.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';
import { validateSubjectPrefix } from './bus/subject.js';

export const DEFAULTS = {
  HOST: '0.0.0.0',
  PORT: 8080,
  /** Unset: embedded in-process bus (single node). Set: core NATS at this URL (comma-separated list allowed). */
  NATS_URL: '',
  HUB_SUBJECT_PREFIX: 'sse',
  HUB_MAX_TOPICS: 16,
  HUB_MAX_TOPIC_LENGTH: 256,
  HUB_RETRY_MS: 3000,
  HUB_HEARTBEAT_MS: 15_000,
  HUB_MAX_BUFFERED_BYTES: 256 * 1024,
  /** 0 turns the age limit off. */
  HUB_MAX_CONNECTION_AGE_MS: 0,
  HUB_MAX_CONNECTIONS: 50_000,
  HUB_REPLAY_MAX_EVENTS: 10_000,
  HUB_REPLAY_MAX_BYTES: 64 * 1024 * 1024,
  HUB_REPLAY_MAX_AGE_MS: 10 * 60_000,
  HUB_MAX_EVENT_BYTES: 64 * 1024,
  HUB_MAX_EVENT_TYPE_LENGTH: 128,
  HUB_INTEREST_LINGER_MS: 60_000,
  HUB_MAX_LINGERING_SUBSCRIPTIONS: 10_000,
  HUB_SHUTDOWN_TIMEOUT_MS: 10_000,
  /** Hub processes sharing the port (node:cluster); 0 = one per core. More than one needs NATS_URL. */
  HUB_WORKERS: 1,
  LOG_LEVEL: 'info',
} as const;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  /** Interface to listen on. Default `0.0.0.0`. */
  readonly host: string;
  /** TCP port; 0 picks a free one (tests). Default 8080. */
  readonly port: number;
  /** NATS server URLs; empty means the embedded bus. */
  readonly natsServers: readonly string[];
  /** Topic `a.b` is bus subject `<prefix>.a.b`. Default `sse`. */
  readonly subjectPrefix: string;
  /** Most topics one connection may ask for. Default 16. */
  readonly maxTopics: number;
  /** Longest topic, in characters. Default 256. */
  readonly maxTopicLength: number;
  /** Reconnect delay sent to clients in the `retry:` line. Default 3000 ms. */
  readonly retryMs: number;
  /** A connection silent for this long gets a comment line. Default 15000 ms. */
  readonly heartbeatMs: number;
  /** Unsent bytes above which a connection is a slow consumer and is closed. Default 256 KiB. */
  readonly maxBufferedBytes: number;
  /** Streams are ended after this age so clients rebalance; 0 = never. Default 0. */
  readonly maxConnectionAgeMs: number;
  /** Open event streams above which new ones get 503. Default 50000. */
  readonly maxConnections: number;
  /** Replay buffer bounds: events, bytes of encoded frames, age. */
  readonly replayMaxEvents: number;
  readonly replayMaxBytes: number;
  readonly replayMaxAgeMs: number;
  /** Largest event payload accepted over HTTP, in bytes. Default 64 KiB. */
  readonly maxEventBytes: number;
  /** Longest event type. Default 128. */
  readonly maxEventTypeLength: number;
  /** How long a bus subscription outlives its last subscriber, so a quick reconnect resumes exactly. Default 60000 ms. */
  readonly interestLingerMs: number;
  /** Most lingering (subscriber-less) bus subscriptions kept; the oldest go first. Default 10000. */
  readonly maxLingeringSubscriptions: number;
  /** Time allowed from SIGTERM to exit. Default 10000 ms. */
  readonly shutdownTimeoutMs: number;
  /**
   * Hub processes sharing the port, each with its own bus subscriptions (src/cluster.ts). Default 1;
   * 0 means one per core. More than one needs NATS: the embedded bus cannot carry events between
   * processes. Event ids are per process, so a resume that lands on another worker gets hub.reset.
   */
  readonly workers: number;
  readonly logLevel: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: keyof typeof DEFAULTS): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? String(DEFAULTS[name]) : raw.trim();
}

function int(env: Env, name: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = str(env, name);
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Parse and validate the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const subjectPrefix = str(env, 'HUB_SUBJECT_PREFIX');
  const prefixProblem = validateSubjectPrefix(subjectPrefix);
  if (prefixProblem) throw new ConfigError('HUB_SUBJECT_PREFIX', prefixProblem);

  const natsServers = str(env, 'NATS_URL')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const server of natsServers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(server) && !/^[\w.-]+:\d+$/.test(server)) {
      throw new ConfigError('NATS_URL', `"${server}" is not a NATS URL (expected nats://host:port)`);
    }
  }

  const heartbeatMs = int(env, 'HUB_HEARTBEAT_MS', 100, 3_600_000);
  const workersSetting = int(env, 'HUB_WORKERS', 0, 256);
  const workers = workersSetting === 0 ? availableParallelism() : workersSetting;
  if (workers > 1 && natsServers.length === 0) {
    throw new ConfigError('HUB_WORKERS', `must be 1 without NATS_URL (got ${workers}): with the embedded bus a worker sees only the events published to itself`);
  }
  return Object.freeze({
    host: str(env, 'HOST'),
    port: int(env, 'PORT', 0, 65535),
    natsServers: Object.freeze(natsServers),
    subjectPrefix,
    maxTopics: int(env, 'HUB_MAX_TOPICS', 1, 1000),
    maxTopicLength: int(env, 'HUB_MAX_TOPIC_LENGTH', 1, 4096),
    retryMs: int(env, 'HUB_RETRY_MS', 0, 3_600_000),
    heartbeatMs,
    maxBufferedBytes: int(env, 'HUB_MAX_BUFFERED_BYTES', 1024, 1024 * 1024 * 1024),
    maxConnectionAgeMs: int(env, 'HUB_MAX_CONNECTION_AGE_MS', 0, 7 * 24 * 3_600_000),
    maxConnections: int(env, 'HUB_MAX_CONNECTIONS', 1, 10_000_000),
    replayMaxEvents: int(env, 'HUB_REPLAY_MAX_EVENTS', 0, 100_000_000),
    replayMaxBytes: int(env, 'HUB_REPLAY_MAX_BYTES', 0, 64 * 1024 * 1024 * 1024),
    replayMaxAgeMs: int(env, 'HUB_REPLAY_MAX_AGE_MS', 0, 30 * 24 * 3_600_000),
    maxEventBytes: int(env, 'HUB_MAX_EVENT_BYTES', 1, 64 * 1024 * 1024),
    maxEventTypeLength: int(env, 'HUB_MAX_EVENT_TYPE_LENGTH', 1, 4096),
    interestLingerMs: int(env, 'HUB_INTEREST_LINGER_MS', 0, 24 * 3_600_000),
    maxLingeringSubscriptions: int(env, 'HUB_MAX_LINGERING_SUBSCRIPTIONS', 0, 10_000_000),
    shutdownTimeoutMs: int(env, 'HUB_SHUTDOWN_TIMEOUT_MS', 100, 3_600_000),
    workers,
    logLevel,
  });
}
