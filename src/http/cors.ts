/**
 * CORS for browser subscribers and publishers. Origins match exactly (scheme, host, port); the
 * allowed origin is echoed, never `*` with credentials. Headers go on the Node response itself
 * (setHeader), so they reach event streams too, which are served on it without Hono.
 * A request from an origin not on the list gets no CORS headers (the browser then hides the answer);
 * a preflight from such an origin is refused with a JSON 403.
 */
import type { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import { errorResponse } from './respond.js';

const ALLOW_METHODS = 'GET, POST';
const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID';
// Browsers cap this anyway (Chromium: 2 h); 10 min keeps a config change from lingering long.
const PREFLIGHT_MAX_AGE_S = '600';

/** What a request does after its CORS headers are set: go on, answer its preflight (204), or be refused. */
export type CorsOutcome = 'continue' | 'preflight' | HubError;

/**
 * Sets the CORS headers for a request with `origin` (its Origin header) on `res`. `preflight`: an
 * OPTIONS request with Access-Control-Request-Method.
 */
export type CorsPolicy = (origin: string | undefined, preflight: boolean, res: ServerResponse) => CorsOutcome;

/** The CORS policy, or undefined when no origin is configured (nothing to do per request). */
export function corsPolicy(config: Config): CorsPolicy | undefined {
  if (config.corsOrigins.length === 0) return undefined;
  const anyOrigin = config.corsOrigins[0] === '*';
  const allowed = new Set(config.corsOrigins);
  const credentials = config.corsCredentials;

  return (origin, preflight, res) => {
    if (origin === undefined) return 'continue';
    const ok = anyOrigin || allowed.has(origin);
    res.setHeader('Vary', 'Origin');
    if (!ok) {
      return preflight ? new HubError(ErrorCode.CorsOrigin, `origin ${JSON.stringify(origin.slice(0, 200))} is not allowed`) : 'continue';
    }
    res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
      return 'continue';
    }
    res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
    return 'preflight';
  };
}

export function corsMiddleware(policy: CorsPolicy, metrics: HubMetrics): MiddlewareHandler<{ Bindings: HttpBindings }> {
  return async (c, next) => {
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    const outcome = policy(c.req.header('origin'), preflight, c.env.outgoing);
    if (outcome === 'continue') return next();
    if (outcome === 'preflight') return c.body(null, 204);
    return errorResponse(c, outcome, metrics);
  };
}
