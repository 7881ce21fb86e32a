/**
 * Every setting of the hub, read from the environment once at start, validated, and frozen.
 * A bad value stops the process with a one-line error that names the variable.
 * The DEFAULTS table below is the one place each default lives; README.md lists the same table.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';
import { createPublicKey } from 'node:crypto';
import { checkTopic, validateSubjectPrefix } from './bus/subject.js';
import type { JetStreamSettings } from './bus/jetstream.js';

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
  /** 1: JetStream mode (needs NATS_URL): cluster-wide ids, resume on any node, no loss across NATS outages. */
  HUB_JETSTREAM: false,
  HUB_JETSTREAM_STREAM: 'SSEHUB',
  HUB_JETSTREAM_MAX_MSGS: 1_000_000,
  HUB_JETSTREAM_MAX_BYTES: 1024 * 1024 * 1024,
  HUB_JETSTREAM_MAX_AGE_MS: 24 * 3_600_000,
  HUB_JETSTREAM_REPLICAS: 1,
  HUB_JETSTREAM_STORAGE: 'file',
  HUB_JETSTREAM_DUPLICATE_WINDOW_MS: 120_000,
  HUB_JETSTREAM_PUBLISH_TIMEOUT_MS: 5000,
  HUB_HISTORY_MAX_EVENTS: 10_000,
  /** The demo page at `/` (and its /demo/stats figures). `0` or `false` turns it off. */
  HUB_DEMO: true,
  /** 0 ends every stream at once on shutdown. */
  HUB_DRAIN_WINDOW_MS: 5000,
  /** Hub processes sharing the port (node:cluster); 0 = one per core. More than one needs NATS_URL. */
  HUB_WORKERS: 1,
  LOG_LEVEL: 'info',

  // --- authorization (docs/security.md). No key at all: open (development) mode, logged loudly.
  /** HS256 shared secret (at least 32 characters). */
  HUB_AUTH_HS256_SECRET: '',
  /** RS256 (RSA) or ES256 (P-256) public key, PEM (SPKI); `\n` escapes are accepted. */
  HUB_AUTH_PUBLIC_KEY: '',
  /** JWKS document URL (RS256/ES256 keys), fetched and cached by `jose`. */
  HUB_AUTH_JWKS_URL: '',
  /** Required `aud` / `iss` when set. */
  HUB_AUTH_AUDIENCE: '',
  HUB_AUTH_ISSUER: '',
  HUB_AUTH_COOKIE: 'ssehub_token',
  HUB_AUTH_CLOCK_TOLERANCE_S: 5,
  /** Comma-separated topic patterns anyone may subscribe to / publish to without a token. */
  HUB_ANONYMOUS_SUBSCRIBE: '',
  HUB_ANONYMOUS_PUBLISH: '',
  // --- CORS
  /** Comma-separated exact origins (`https://app.example.com`), or `*` (only without credentials). Empty: no CORS. */
  HUB_CORS_ORIGINS: '',
  HUB_CORS_CREDENTIALS: 'true',
  // --- limits and hostile input
  /** 0 turns it off: behind an untrusted proxy every client shares the proxy's address. */
  HUB_MAX_CONNECTIONS_PER_ADDRESS: 0,
  /** Proxies in front of the hub whose X-Forwarded-For entries are trusted. 0: use the socket address. */
  HUB_TRUST_PROXY_HOPS: 0,
  /** Publishes per second per token (or address when anonymous); 0 turns rate limiting off. */
  HUB_PUBLISH_RATE: 0,
  HUB_PUBLISH_BURST: 100,
  /** Most rate-limit buckets kept; past it the least recently used goes. */
  HUB_RATE_LIMIT_MAX_KEYS: 10_000,
  HUB_MAX_HEADER_BYTES: 16 * 1024,
  HUB_MAX_QUERY_BYTES: 4096,
  HUB_HEADERS_TIMEOUT_MS: 10_000,
  HUB_REQUEST_TIMEOUT_MS: 30_000,
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
  /** JetStream mode settings; undefined in the embedded and core NATS modes. */
  readonly jetstream: JetStreamSettings | undefined;
  /** Most events one resume may read back from the bus (JetStream) before it is `too-far-behind`. Default 10000. */
  readonly historyMaxEvents: number;
  /** Serve the demo page at `/` and its figures at /demo/stats. Default true. */
  readonly demo: boolean;
  /**
   * On shutdown, open streams are ended spread evenly over this window, so their clients do not all
   * reconnect (to the other replicas) in the same second. Must leave DRAIN_MARGIN_MS (1 s) of
   * HUB_SHUTDOWN_TIMEOUT_MS for the last streams to flush and the bus to close. Default 5000 ms.
   */
  readonly drainWindowMs: number;
  /**
   * Hub processes sharing the port, each with its own bus subscriptions (src/cluster.ts). Default 1;
   * 0 means one per core. More than one needs NATS: the embedded bus cannot carry events between
   * processes. Event ids are per process, so a resume that lands on another worker gets hub.reset.
   */
  readonly workers: number;
  readonly logLevel: LogLevel;
  /** Token verification; undefined means open (development) mode. */
  readonly auth: AuthConfig | undefined;
  /** Topic patterns open to requests without a token (when auth is on). Default none. */
  readonly anonymousSubscribe: readonly string[];
  readonly anonymousPublish: readonly string[];
  /** Exact allowed origins; `['*']` allows any origin without credentials. Default none (no CORS headers). */
  readonly corsOrigins: readonly string[];
  /** Send Access-Control-Allow-Credentials (cookie tokens). Default true. */
  readonly corsCredentials: boolean;
  /** Open streams per client address; 0 = unlimited. Default 0. */
  readonly maxConnectionsPerAddress: number;
  /** Trusted proxies in front: the client address is the X-Forwarded-For entry this many hops back. Default 0. */
  readonly trustProxyHops: number;
  /** Token-bucket refill, publishes per second per token or address; 0 = unlimited. Default 0. */
  readonly publishRate: number;
  /** Token-bucket size: publishes allowed in a burst. Default 100. */
  readonly publishBurst: number;
  /** Most rate-limit buckets held. Default 10000. */
  readonly rateLimitMaxKeys: number;
  /** Request line plus headers, in bytes (Node's maxHeaderSize). Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Longest query string, in bytes. Default 4096. */
  readonly maxQueryBytes: number;
  /** Time allowed for a client to send its headers (slowloris). Default 10000 ms. */
  readonly headersTimeoutMs: number;
  /** Time allowed to receive a whole request, body included; event streams are not cut by it. Default 30000 ms. */
  readonly requestTimeoutMs: number;
}

export interface AuthConfig {
  readonly hs256Secret: string | undefined;
  /** PEM text, already checked to be an RSA or P-256 public key. */
  readonly publicKeyPem: string | undefined;
  readonly jwksUrl: string | undefined;
  readonly audience: string | undefined;
  readonly issuer: string | undefined;
  /** Cookie that may carry the token. Default `ssehub_token`. */
  readonly cookieName: string;
  /** Allowed clock skew for exp/nbf, seconds. Default 5. */
  readonly clockToleranceSec: number;
}

/** Part of HUB_SHUTDOWN_TIMEOUT_MS kept after the drain window: final flushes, bus close. */
export const DRAIN_MARGIN_MS = 1000;

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

function bool(env: Env, name: keyof typeof DEFAULTS): boolean {
  const text = str(env, name).toLowerCase();
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new ConfigError(name, `must be 1, 0, true or false, got "${text}"`);
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
  const jetstream = loadJetStream(env, subjectPrefix, natsServers.length > 0);
  const maxTopicLength = int(env, 'HUB_MAX_TOPIC_LENGTH', 1, 4096);
  const corsOrigins = list(env, 'HUB_CORS_ORIGINS');
  const corsCredentials = bool(env, 'HUB_CORS_CREDENTIALS');
  for (const origin of corsOrigins) {
    if (origin === '*') {
      if (corsOrigins.length > 1) throw new ConfigError('HUB_CORS_ORIGINS', '"*" must stand alone');
      if (corsCredentials) throw new ConfigError('HUB_CORS_ORIGINS', '"*" cannot be used with credentials: set HUB_CORS_CREDENTIALS=false or list exact origins');
    } else if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('HUB_CORS_ORIGINS', `"${origin}" is not an origin (scheme://host[:port], no path)`);
    }
  }
  const shutdownTimeoutMs = int(env, 'HUB_SHUTDOWN_TIMEOUT_MS', 100, 3_600_000);
  const drainWindowMs = int(env, 'HUB_DRAIN_WINDOW_MS', 0, 3_600_000);
  if (drainWindowMs > 0 && drainWindowMs + DRAIN_MARGIN_MS > shutdownTimeoutMs) {
    throw new ConfigError(
      'HUB_DRAIN_WINDOW_MS',
      `must leave ${DRAIN_MARGIN_MS} ms of HUB_SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}) for the last streams and the bus to close, got ${drainWindowMs}`,
    );
  }
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
    maxTopicLength,
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
    shutdownTimeoutMs,
    drainWindowMs,
    jetstream,
    historyMaxEvents: int(env, 'HUB_HISTORY_MAX_EVENTS', 0, 10_000_000),
    demo: bool(env, 'HUB_DEMO'),
    workers,
    logLevel,
    auth: authConfig(env),
    anonymousSubscribe: patterns(env, 'HUB_ANONYMOUS_SUBSCRIBE', maxTopicLength),
    anonymousPublish: patterns(env, 'HUB_ANONYMOUS_PUBLISH', maxTopicLength),
    corsOrigins: Object.freeze(corsOrigins),
    corsCredentials,
    maxConnectionsPerAddress: int(env, 'HUB_MAX_CONNECTIONS_PER_ADDRESS', 0, 10_000_000),
    trustProxyHops: int(env, 'HUB_TRUST_PROXY_HOPS', 0, 16),
    publishRate: int(env, 'HUB_PUBLISH_RATE', 0, 1_000_000),
    publishBurst: int(env, 'HUB_PUBLISH_BURST', 1, 1_000_000),
    rateLimitMaxKeys: int(env, 'HUB_RATE_LIMIT_MAX_KEYS', 1, 10_000_000),
    maxHeaderBytes: int(env, 'HUB_MAX_HEADER_BYTES', 1024, 1024 * 1024),
    maxQueryBytes: int(env, 'HUB_MAX_QUERY_BYTES', 64, 1024 * 1024),
    headersTimeoutMs: int(env, 'HUB_HEADERS_TIMEOUT_MS', 100, 3_600_000),
    requestTimeoutMs: int(env, 'HUB_REQUEST_TIMEOUT_MS', 100, 3_600_000),
  });
}

function list(env: Env, name: keyof typeof DEFAULTS): string[] {
  return str(env, name)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function patterns(env: Env, name: keyof typeof DEFAULTS, maxLength: number): readonly string[] {
  const values = list(env, name);
  for (const pattern of values) {
    const problem = checkTopic(pattern, { maxLength, allowWildcards: true });
    if (problem) throw new ConfigError(name, `holds a bad topic pattern: ${problem.message}`);
  }
  return Object.freeze(values);
}

function authConfig(env: Env): AuthConfig | undefined {
  const hs256Secret = str(env, 'HUB_AUTH_HS256_SECRET') || undefined;
  // PEM in one environment line: accept literal "\n" escapes as line breaks.
  const publicKeyPem = str(env, 'HUB_AUTH_PUBLIC_KEY').replaceAll('\\n', '\n') || undefined;
  const jwksUrl = str(env, 'HUB_AUTH_JWKS_URL') || undefined;
  if (hs256Secret !== undefined && hs256Secret.length < 32) {
    throw new ConfigError('HUB_AUTH_HS256_SECRET', 'must be at least 32 characters (HS256 needs a 256-bit secret)');
  }
  if (publicKeyPem !== undefined) {
    let key;
    try {
      key = createPublicKey(publicKeyPem);
    } catch (err) {
      throw new ConfigError('HUB_AUTH_PUBLIC_KEY', `is not a PEM public key (${(err as Error).message})`);
    }
    const ec = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    if (key.asymmetricKeyType !== 'rsa' && !ec) throw new ConfigError('HUB_AUTH_PUBLIC_KEY', 'must be an RSA (RS256) or P-256 (ES256) public key');
  }
  if (publicKeyPem !== undefined && jwksUrl !== undefined) {
    throw new ConfigError('HUB_AUTH_JWKS_URL', 'cannot be combined with HUB_AUTH_PUBLIC_KEY: set one source of public keys');
  }
  if (jwksUrl !== undefined && !/^https?:\/\/\S+$/.test(jwksUrl)) throw new ConfigError('HUB_AUTH_JWKS_URL', `"${jwksUrl}" is not an http(s) URL`);
  const cookieName = str(env, 'HUB_AUTH_COOKIE');
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cookieName)) throw new ConfigError('HUB_AUTH_COOKIE', `"${cookieName}" is not a cookie name`);
  const clockToleranceSec = int(env, 'HUB_AUTH_CLOCK_TOLERANCE_S', 0, 600);
  if (hs256Secret === undefined && publicKeyPem === undefined && jwksUrl === undefined) return undefined;
  return Object.freeze({
    hs256Secret,
    publicKeyPem,
    jwksUrl,
    audience: str(env, 'HUB_AUTH_AUDIENCE') || undefined,
    issuer: str(env, 'HUB_AUTH_ISSUER') || undefined,
    cookieName,
    clockToleranceSec,
  });
}

function loadJetStream(env: Env, subjectPrefix: string, haveNats: boolean): JetStreamSettings | undefined {
  if (!bool(env, 'HUB_JETSTREAM')) return undefined;
  if (!haveNats) throw new ConfigError('HUB_JETSTREAM', 'needs NATS_URL: JetStream lives in a NATS server');
  const stream = str(env, 'HUB_JETSTREAM_STREAM');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream)) throw new ConfigError('HUB_JETSTREAM_STREAM', `must be 1-64 letters, digits, _ or -, got "${stream}"`);
  const storage = str(env, 'HUB_JETSTREAM_STORAGE');
  if (storage !== 'file' && storage !== 'memory') throw new ConfigError('HUB_JETSTREAM_STORAGE', `must be file or memory, got "${storage}"`);
  return Object.freeze({
    stream,
    subjects: `${subjectPrefix}.>`,
    maxMsgs: int(env, 'HUB_JETSTREAM_MAX_MSGS', 1, Number.MAX_SAFE_INTEGER),
    maxBytes: int(env, 'HUB_JETSTREAM_MAX_BYTES', 1024, Number.MAX_SAFE_INTEGER),
    maxAgeMs: int(env, 'HUB_JETSTREAM_MAX_AGE_MS', 1000, 365 * 24 * 3_600_000),
    replicas: int(env, 'HUB_JETSTREAM_REPLICAS', 1, 5),
    storage,
    duplicateWindowMs: int(env, 'HUB_JETSTREAM_DUPLICATE_WINDOW_MS', 100, 7 * 24 * 3_600_000),
    publishTimeoutMs: int(env, 'HUB_JETSTREAM_PUBLISH_TIMEOUT_MS', 100, 60_000),
  });
}
