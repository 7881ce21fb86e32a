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
  HeadersTooLarge: 'headers_too_large',
  RequestTimeout: 'request_timeout',
  AuthUnavailable: 'auth_unavailable',
  BusUnavailable: 'bus_unavailable',
  ShuttingDown: 'shutting_down',
  NotFound: 'not_found',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error a client caused or must be told about; `status` is the HTTP status to answer with. */
export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly code: ErrorCode,
    readonly status: 400 | 401 | 403 | 404 | 408 | 413 | 414 | 415 | 429 | 431 | 500 | 503,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { error: string; code: ErrorCode } {
    return { error: this.message, code: this.code };
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
  new HubError(ErrorCode.BadTopic, 400, `topic ${JSON.stringify(topic)}: ${problem}`);
