/**
 * Runs before every route: a query string longer than HUB_MAX_QUERY_BYTES is a 414 and one that is
 * not valid percent-encoded UTF-8 (`%FF`, a lone `%`, raw non-ASCII bytes) is a 400, so no handler
 * ever parses an unbounded or undecodable query (Hono would otherwise pass the raw text through).
 * Event streams, served before Hono, call the same check (src/http/events.ts).
 */
import type { MiddlewareHandler } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import { errorResponse } from './respond.js';

// Printable ASCII only: anything else in a request target was never percent-encoded.
const RAW_UNSAFE = /[^\x21-\x7e]/;

/** The check for a request target (Node's `req.url`): undefined when its query may be parsed. */
export type QueryCheck = (target: string) => HubError | undefined;

export function queryCheck(config: Config): QueryCheck {
  const limit = config.maxQueryBytes;
  return (target) => {
    const mark = target.indexOf('?');
    if (mark === -1) return undefined;
    const query = target.slice(mark + 1);
    if (query.length > limit) return new HubError(ErrorCode.QueryTooLong, `the query string is longer than ${limit} bytes`);
    if (RAW_UNSAFE.test(query) || !decodes(query)) return new HubError(ErrorCode.BadQuery, 'the query string is not valid percent-encoded UTF-8');
    return undefined;
  };
}

export function requestGuard(check: QueryCheck, metrics: HubMetrics): MiddlewareHandler<{ Bindings: HttpBindings }> {
  return async (c, next) => {
    const problem = check(c.env.incoming.url ?? '');
    return problem ? errorResponse(c, problem, metrics) : next();
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
