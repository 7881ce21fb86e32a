/**
 * CORS for browser subscribers and publishers. Origins match exactly (scheme, host, port); the
 * allowed origin is echoed, never `*` with credentials. Headers go on the Node response itself
 * (setHeader), so they reach event streams too, which are written on it, not through a Response.
 * A request from an origin not on the list gets no CORS headers (the browser then hides the answer);
 * a preflight from such an origin is refused with a JSON 403.
 */
import type { MiddlewareHandler } from 'hono';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

const ALLOW_METHODS = 'GET, POST';
const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID';
// Browsers cap this anyway (Chromium: 2 h); 10 min keeps a config change from lingering long.
const PREFLIGHT_MAX_AGE_S = '600';

interface Policy {
  /** No origin is allowed: CORS adds nothing to any answer. */
  readonly off: boolean;
  readonly anyOrigin: boolean;
  readonly allowed: ReadonlySet<string>;
  readonly credentials: boolean;
}

function policyOf(config: Config): Policy {
  const { corsOrigins, corsCredentials } = config;
  return { off: corsOrigins.length === 0, anyOrigin: corsOrigins[0] === '*', allowed: new Set(corsOrigins), credentials: corsCredentials };
}

/**
 * The CORS middleware. HUB_CORS_ORIGINS is live (a reload may turn CORS on, off, or change the
 * list), so it is always installed; the policy is built once per configuration in force, and a
 * request checks only that it is still the same object.
 */
export function corsMiddleware({ live, hub }: HttpDeps): MiddlewareHandler<HttpEnv> {
  let policyFor = live.current;
  let policy = policyOf(policyFor);

  return async (c, next) => {
    if (live.current !== policyFor) policy = policyOf((policyFor = live.current));
    const { off, anyOrigin, allowed, credentials } = policy;
    if (off) return next();
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
