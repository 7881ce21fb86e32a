/**
 * One answer for every error: {"error": "...", "code": "..."} with the error's status, counted in
 * ssehub_requests_rejected_total. `errorAnswer` makes it (body and headers); routes send it as a
 * Hono response (`errorResponse`), requests Node's parser rejected get it written on their socket
 * (client-error.ts).
 */
import type { Context } from 'hono';
import { ErrorCode, HubError, type ErrorStatus } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import type { Logger } from '../log.js';

// RFC 6750: a 401 names the scheme the client should use.
const BEARER_CHALLENGE = 'Bearer realm="ssehub"';
// What Hono's c.json() says for every other JSON answer. RFC 8259 defines no charset parameter:
// JSON on the wire is UTF-8.
const JSON_TYPE = 'application/json';

export interface ErrorAnswer {
  readonly status: ErrorStatus;
  /** Content-Type, Content-Length, a 401's challenge, then the caller's extra headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Counts `err` as a rejected request and makes its answer; `headers` are added (e.g. Retry-After). */
export function errorAnswer(err: HubError, metrics: HubMetrics, headers?: Record<string, string>): ErrorAnswer {
  metrics.requestsRejected.inc({ code: err.code });
  const body = JSON.stringify(err.toJSON());
  const own: Record<string, string> = { 'Content-Type': JSON_TYPE, 'Content-Length': String(Buffer.byteLength(body)) };
  if (err.status === 401) own['WWW-Authenticate'] = BEARER_CHALLENGE;
  return { status: err.status, headers: headers ? { ...own, ...headers } : own, body };
}

export function errorResponse(c: Context, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): Response {
  const answer = errorAnswer(err, metrics, headers);
  return c.body(answer.body, answer.status, answer.headers);
}

/** What a request that failed answers: its HubError, or (logged) a 500 that says nothing of the cause. */
export function asHubError(err: unknown, log: Logger): HubError {
  if (err instanceof HubError) return err;
  log.error({ err }, 'request failed');
  return new HubError(ErrorCode.Internal, 'internal error');
}
