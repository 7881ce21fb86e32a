/**
 * Runs before every route: an HTTP/1.1 request without Host is a 400 (RFC 9112 §3.2 requires it;
 * HTTP/1.0 does not, see server.ts); a query string longer than HUB_MAX_QUERY_BYTES is a 414 and one
 * that is not valid percent-encoded UTF-8 (`%FF`, a lone `%`, raw non-ASCII bytes) is a 400, so no
 * handler ever parses an unbounded or undecodable query (Hono would otherwise pass the raw text through).
 */
import type { MiddlewareHandler } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

// Printable ASCII only: anything else in a request target was never percent-encoded.
const RAW_UNSAFE = /[^\x21-\x7e]/;

export function requestGuard({ config, hub }: HttpDeps): MiddlewareHandler<HttpEnv> {
  const limit = config.maxQueryBytes;
  return async (c, next) => {
    const { incoming } = c.env;
    if (incoming.headers.host === undefined && incoming.httpVersion !== '1.0') {
      return errorResponse(c, new HubError(ErrorCode.BadRequest, `an HTTP/${incoming.httpVersion} request needs a Host header`), hub.metrics);
    }
    const target = incoming.url ?? '';
    const mark = target.indexOf('?');
    if (mark === -1) return next();
    const query = target.slice(mark + 1);
    if (query.length > limit) return errorResponse(c, new HubError(ErrorCode.QueryTooLong, `the query string is longer than ${limit} bytes`), hub.metrics);
    if (RAW_UNSAFE.test(query) || !decodes(query)) {
      return errorResponse(c, new HubError(ErrorCode.BadQuery, 'the query string is not valid percent-encoded UTF-8'), hub.metrics);
    }
    return next();
  };
}

function decodes(query: string): boolean {
  if (!query.includes('%')) return true;
  try {
    decodeURIComponent(query);
    return true;
  } catch {
    return false;
  }
}
