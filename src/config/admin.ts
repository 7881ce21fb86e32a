/**
 * Settings of the admin listener (src/admin/, docs/operations.md): CPU profiles, heap snapshots and
 * runtime figures of a live hub, on a port of its own so the public port never serves them. Off
 * unless HUB_ADMIN_PORT is set: a heap snapshot holds every secret and token the process has seen.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { serverRows } from './server.js';
import { int, optional, text, type Parser } from './parsers.js';
import { readRows, setting, type Env, type ValuesOf } from './setting.js';

const adminToken: Parser<string> = (token, variable) => {
  if (token.length < 32) throw new ConfigError(variable, 'must be at least 32 characters (it guards heap snapshots of the whole process)');
  return token;
};

export const adminRows = {
  adminPort: setting({
    env: 'HUB_ADMIN_PORT',
    default: undefined,
    parse: optional(int(0, 65535)),
    doc: 'port of the admin listener (`/debug/profile`, `/debug/heap`, `/debug/stats`, the `/admin` charts; [docs/operations.md](docs/operations.md)); unset = no admin listener, 0 picks a free port; needs `HUB_WORKERS=1`',
  }),
  adminHost: setting({ env: 'HUB_ADMIN_HOST', default: '127.0.0.1', parse: text, doc: 'interface of the admin listener; anything but loopback needs `HUB_ADMIN_TOKEN`' }),
  adminToken: setting({
    env: 'HUB_ADMIN_TOKEN',
    default: undefined,
    parse: optional(adminToken),
    doc: 'when set, every admin request needs `Authorization: Bearer <token>` (at least 32 characters)',
  }),
};

export type AdminConfig = ValuesOf<typeof adminRows>;

/** Loopback: only this machine can connect, so the admin routes need no token there. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** `workers` is HUB_WORKERS: workers would share one admin port, and a profile would come from whichever got the connection. */
export function loadAdmin(env: Env, workers: number): AdminConfig {
  const admin = readRows(env, adminRows);
  if (admin.adminPort === undefined) return admin;
  if (!isLoopbackHost(admin.adminHost) && admin.adminToken === undefined) {
    throw new ConfigError(
      adminRows.adminToken.env,
      `must be set for the admin listener to bind ${admin.adminHost} (${adminRows.adminHost.env}): anyone who reaches it could take heap snapshots, which hold every key and token the hub has seen. Set a token, or bind loopback (127.0.0.1)`,
    );
  }
  if (workers > 1) {
    throw new ConfigError(
      adminRows.adminPort.env,
      `cannot be used with ${serverRows.workers.env}=${workers} yet: node:cluster would share the admin port among the workers, so a profile or snapshot would come from whichever worker took the connection. Profile with ${serverRows.workers.env}=1`,
    );
  }
  return admin;
}
