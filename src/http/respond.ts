/**
 * One shape for every error answer: {"error": "...", "code": "..."} with the error's status, counted
 * in ssehub_requests_rejected_total. Hono routes answer with a Response; event streams, served
 * straight on Node's response (src/http/events.ts), write the same answer there.
 */
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import type { Logger } from '../log.js';

// RFC 6750: a 401 names the scheme the client should use.
const BEARER_CHALLENGE = 'Bearer realm="ssehub"';
// What Hono's c.json() says, so both paths answer alike.
const JSON_TYPE = 'application/json';

/** Counts the refusal and returns the extra headers it needs. */
function refusalHeaders(err: HubError, metrics: HubMetrics, headers: Record<string, string> | undefined): Record<string, string> | undefined {
  metrics.requestsRejected.inc({ code: err.code });
  return err.status === 401 ? { 'WWW-Authenticate': BEARER_CHALLENGE, ...headers } : headers;
}

export function errorResponse(c: Context, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): Response {
  return c.json(err.toJSON(), err.status, refusalHeaders(err, metrics, headers));
}

/** The same answer as errorResponse, written on Node's response (headers set before, e.g. CORS, stay). */
export function writeError(res: ServerResponse, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): void {
  const body = JSON.stringify(err.toJSON());
  res.writeHead(err.status, { 'Content-Type': JSON_TYPE, ...refusalHeaders(err, metrics, headers), 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** What a request that failed answers: its HubError, or (logged) a 500 that says nothing of the cause. */
export function asHubError(err: unknown, log: Logger): HubError {
  if (err instanceof HubError) return err;
  log.error({ err }, 'request failed');
  return new HubError(ErrorCode.Internal, 'internal error');
}
