/**
 * CORS for browser subscribers and publishers. Origins match exactly (scheme, host, port); the
 * allowed origin is echoed, never `*` with credentials. Headers go on the Node response itself
 * (setHeader), so they reach event streams too, which are written on it, not through a Response.
 * A request from an origin not on the list gets no CORS headers (the browser then hides the answer);
 * a preflight from such an origin is refused with a JSON 403.
 */
import type { MiddlewareHandler } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

const ALLOW_METHODS = 'GET, POST';
const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID';
// Browsers cap this anyway (Chromium: 2 h); 10 min keeps a config change from lingering long.
const PREFLIGHT_MAX_AGE_S = '600';

/** The CORS middleware, or undefined when no origin is configured (nothing to do per request). */
export function corsMiddleware({ config, hub }: HttpDeps): MiddlewareHandler<HttpEnv> | undefined {
  if (config.corsOrigins.length === 0) return undefined;
  const anyOrigin = config.corsOrigins[0] === '*';
  const allowed = new Set(config.corsOrigins);
  const credentials = config.corsCredentials;

  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined) return next();
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    const res = c.env.outgoing;
    res.setHeader('Vary', 'Origin');
    if (!anyOrigin && !allowed.has(origin)) {
      if (preflight) return errorResponse(c, new HubError(ErrorCode.CorsOrigin, `origin ${JSON.stringify(origin.slice(0, 200))} is not allowed`), hub.metrics);
      return next();
    }
    res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
      return next();
    }
    res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
    return c.body(null, 204);
  };
}
