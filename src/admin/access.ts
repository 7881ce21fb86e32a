/**
 * Who may use the admin listener. With HUB_ADMIN_TOKEN, every request carries it as a bearer token
 * (compared in constant time, so its bytes cannot be found one by one from answer times). Without
 * one, config/admin.ts only lets the listener bind loopback, and requests from anywhere else are
 * refused here as well, should a proxy or port forward bring one in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCode, HubError } from '../errors.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Builds the check once: the token's digest is computed at start, not per request. */
export function adminAccess(token: string | undefined): (req: IncomingMessage) => void {
  if (token === undefined) {
    return (req) => {
      if (!isLoopbackAddress(req.socket.remoteAddress)) throw new HubError(ErrorCode.Unauthorized, 'the admin listener has no HUB_ADMIN_TOKEN: loopback clients only');
    };
  }
  // Digests have one length whatever was sent, which timingSafeEqual needs, and hide the token's.
  const expected = digest(token);
  return (req) => {
    const sent = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (sent === undefined) throw new HubError(ErrorCode.Unauthorized, 'admin requests need Authorization: Bearer <HUB_ADMIN_TOKEN>');
    if (!timingSafeEqual(digest(sent), expected)) throw new HubError(ErrorCode.Unauthorized, 'wrong admin token');
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
