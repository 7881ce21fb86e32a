/** One shape for every error answer: {"error": "...", "code": "..."} with the error's status. */
import type { Context } from 'hono';
import type { HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';

// RFC 6750: a 401 names the scheme the client should use.
const BEARER_CHALLENGE = 'Bearer realm="ssehub"';

export function errorResponse(c: Context, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): Response {
  metrics.requestsRejected.inc({ code: err.code });
  const extra = err.status === 401 ? { 'WWW-Authenticate': BEARER_CHALLENGE, ...headers } : headers;
  return c.json(err.toJSON(), err.status, extra);
}
