/** One shape for every error answer: {"error": "...", "code": "..."} with the error's status. */
import type { Context } from 'hono';
import type { HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';

export function errorResponse(c: Context, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): Response {
  metrics.requestsRejected.inc({ code: err.code });
  return c.json(err.toJSON(), err.status, headers);
}
