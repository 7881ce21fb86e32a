/**
 * Every error the hub reports, with a stable machine-readable code.
 * HTTP answers carry them as JSON: {"error": "<message>", "code": "<code>"}.
 */

export const ErrorCode = {
  BadTopic: 'bad_topic',
  NoTopic: 'no_topic',
  TooManyTopics: 'too_many_topics',
  WildcardPublish: 'wildcard_publish',
  BadEventType: 'bad_event_type',
  PayloadTooLarge: 'payload_too_large',
  BadPayload: 'bad_payload',
  BadMsgId: 'bad_msg_id',
  BadBatch: 'bad_batch',
  TooManyConnections: 'too_many_connections',
  TooManyConnectionsFromAddress: 'too_many_connections_from_address',
  RateLimited: 'rate_limited',
  Unauthorized: 'unauthorized',
  TokenInvalid: 'token_invalid',
  TokenExpired: 'token_expired',
  Forbidden: 'forbidden_topic',
  CorsOrigin: 'cors_origin_not_allowed',
  BadQuery: 'bad_query',
  QueryTooLong: 'query_too_long',
  BadLastEventId: 'bad_last_event_id',
  BadRequest: 'bad_request',
  MethodNotAllowed: 'method_not_allowed',
  HeadersTooLarge: 'headers_too_large',
  RequestTimeout: 'request_timeout',
  AuthUnavailable: 'auth_unavailable',
  BusUnavailable: 'bus_unavailable',
  PublishOutcomeUnknown: 'publish_outcome_unknown',
  Overloaded: 'overloaded',
  ShuttingDown: 'shutting_down',
  NotFound: 'not_found',
  StreamNotFound: 'stream_not_found',
  WrongStreamKey: 'wrong_stream_key',
  Internal: 'internal',
  BadProfileSeconds: 'bad_profile_seconds',
  ProfileInProgress: 'profile_in_progress',
  SnapshotInProgress: 'snapshot_in_progress',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The HTTP status each code answers with, stated once: a call site names the code and says what
 * happened, never the status (fastify's lib/errors.js binds them the same way).
 */
export const ERROR_STATUS = {
  [ErrorCode.BadTopic]: 400,
  [ErrorCode.NoTopic]: 400,
  [ErrorCode.TooManyTopics]: 400,
  [ErrorCode.WildcardPublish]: 400,
  [ErrorCode.BadEventType]: 400,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.BadPayload]: 400,
  [ErrorCode.BadMsgId]: 400,
  [ErrorCode.BadBatch]: 400,
  [ErrorCode.TooManyConnections]: 503,
  [ErrorCode.TooManyConnectionsFromAddress]: 429,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.TokenInvalid]: 401,
  [ErrorCode.TokenExpired]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.CorsOrigin]: 403,
  [ErrorCode.BadQuery]: 400,
  [ErrorCode.QueryTooLong]: 414,
  [ErrorCode.BadLastEventId]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.HeadersTooLarge]: 431,
  [ErrorCode.RequestTimeout]: 408,
  [ErrorCode.AuthUnavailable]: 503,
  [ErrorCode.BusUnavailable]: 503,
  // The bus was sent the event and did not answer: a gateway timeout, not "unavailable", because it
  // may well have stored it.
  [ErrorCode.PublishOutcomeUnknown]: 504,
  [ErrorCode.Overloaded]: 503,
  [ErrorCode.ShuttingDown]: 503,
  [ErrorCode.NotFound]: 404,
  // Also when the stream's node did not answer in time: a node that is gone took its streams with it.
  [ErrorCode.StreamNotFound]: 404,
  [ErrorCode.WrongStreamKey]: 403,
  [ErrorCode.Internal]: 500,
  [ErrorCode.BadProfileSeconds]: 400,
  [ErrorCode.ProfileInProgress]: 409,
  [ErrorCode.SnapshotInProgress]: 409,
} as const satisfies Record<ErrorCode, number>;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/**
 * An error a client caused or must be told about; `status` (from ERROR_STATUS) is the HTTP status to
 * answer with. `details` are more fields of the JSON answer, for a client to act on (`msgId`).
 */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly status: ErrorStatus;
  readonly details: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, string>> },
  ) {
    super(message, options);
    this.status = ERROR_STATUS[code];
    this.details = options?.details;
  }

  toJSON(): { error: string; code: ErrorCode } {
    return { error: this.message, code: this.code, ...this.details };
  }
}

/**
 * What a failed bus publish did: `not-published` means nothing was kept (never sent, or the bus said
 * it stored nothing); `unknown` means it was sent and no answer came, so it may have been stored.
 */
export type PublishOutcome = 'not-published' | 'unknown';

/** A bus publish that failed, with what the bus can say of its outcome. */
export class BusPublishError extends Error {
  override readonly name = 'BusPublishError';
  constructor(
    readonly outcome: PublishOutcome,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A setting that cannot be used; the process stops with this one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

export const badTopic = (topic: string, problem: string): HubError =>
  new HubError(ErrorCode.BadTopic, `topic ${JSON.stringify(topic)}: ${problem}`);
