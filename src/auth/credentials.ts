/**
 * Where a request may carry its token, first match wins:
 * 1. `Authorization: Bearer <jwt>` (backends, the Node EventSource client with a custom fetch);
 * 2. `?access_token=<jwt>` (an explicit choice for this one URL);
 * 3. the cookie named by HUB_AUTH_COOKIE (browsers: EventSource sends cookies but cannot set headers),
 *    for subscriptions only: a cookie is ambient authority that a cross-site form POST would carry
 *    too, so accepting it for publishing would open the hub to cross-site request forgery.
 * Query tokens end up in access logs; docs/security.md says so and prefers cookies for browsers.
 */
import { parse as parseCookies } from 'hono/utils/cookie';
import { ErrorCode, HubError } from '../errors.js';

/** What authorization reads from a request: a Hono request (`c.req`) is one. */
export interface RequestFields {
  /** The header (lower-case name), repeated ones joined as the Fetch API's Headers.get joins them. */
  header(name: string): string | undefined;
  /** The first value of the query parameter, percent-decoded. */
  query(name: string): string | undefined;
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9_.~+/=-]+)[ ]*$/i;

/** The presented token, undefined when there is none, or a 401 for a malformed Authorization header. */
export function presentedToken(req: RequestFields, cookieName: string | undefined): string | undefined | HubError {
  const header = req.header('authorization');
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) return new HubError(ErrorCode.TokenInvalid, 'the Authorization header must be "Bearer <token>"');
    return match[1];
  }
  const query = req.query('access_token');
  if (query !== undefined && query !== '') return query;
  if (cookieName === undefined) return undefined;
  const cookies = req.header('cookie');
  const cookie = cookies === undefined ? undefined : parseCookies(cookies, cookieName)[cookieName];
  return cookie === undefined || cookie === '' ? undefined : cookie;
}
