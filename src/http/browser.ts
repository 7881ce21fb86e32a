/**
 * What browsers load from the hub: the client library at /client/ssehub.js (types at /client/ssehub.d.ts)
 * and, unless HUB_DEMO=0, the demo page at / with the hub's figures at /demo/stats.
 *
 * The files live in client/ (the library compiled to client/dist/ by `npm run build`). They are read
 * once at start and served from memory with an ETag, so a reload costs a 304.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Counter } from 'prom-client';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { errorResponse } from './respond.js';

// Same relative path from src/http/ (tsx, tests) and from dist/http/ (npm start).
const CLIENT_DIR = new URL('../../client/', import.meta.url);

interface StaticFile {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** Reads a file under client/ once; undefined when it is not there (the library not built yet). */
function load(path: string, contentType: string, extraHeaders: Record<string, string> = {}): StaticFile | undefined {
  let body: Buffer;
  try {
    body = readFileSync(new URL(path, CLIENT_DIR));
  } catch {
    return undefined;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  // no-cache: the browser keeps the file but asks each time, so a hub upgrade is seen at once.
  return { body, headers: Object.freeze({ 'Content-Type': contentType, 'Cache-Control': 'no-cache', ETag: etag, 'X-Content-Type-Options': 'nosniff', ...extraHeaders }) };
}

function serve(hub: Hub, file: StaticFile | undefined, missing: string) {
  return (c: Context): Response => {
    if (!file) return errorResponse(c, new HubError(ErrorCode.NotFound, missing), hub.metrics);
    if (c.req.header('if-none-match') === file.headers.ETag) return c.body(null, 304, file.headers);
    return c.body(new Uint8Array(file.body), 200, file.headers);
  };
}

async function total(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Registers the client library and (when enabled) the demo routes. */
export function mountBrowserRoutes(app: Hono<{ Bindings: HttpBindings }>, hub: Hub, config: Config, log: Logger): void {
  const notBuilt = 'the client library is not built on this hub: run "npm run build"';
  // A module script from another origin is fetched with CORS: pages anywhere may import the library.
  const script = load('dist/ssehub.js', 'text/javascript; charset=utf-8', { 'Access-Control-Allow-Origin': '*' });
  const types = load('dist/ssehub.d.ts', 'application/typescript; charset=utf-8', { 'Access-Control-Allow-Origin': '*' });
  if (!script) log.warn({ dir: CLIENT_DIR.pathname }, 'client library not built (npm run build): /client/ssehub.js and the demo page will not work');
  app.get('/client/ssehub.js', serve(hub, script, notBuilt));
  app.get('/client/ssehub.d.ts', serve(hub, types, notBuilt));

  if (!config.demo) return;
  // The demo loads only its own files and talks only to this hub.
  const page = load('demo/index.html', 'text/html; charset=utf-8', { 'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'" });
  const missing = 'the demo files are missing from client/demo/';
  app.get('/', serve(hub, page, missing));
  app.get('/demo/demo.js', serve(hub, load('demo/demo.js', 'text/javascript; charset=utf-8'), missing));
  app.get('/demo/demo.css', serve(hub, load('demo/demo.css', 'text/css; charset=utf-8'), missing));
  app.get('/demo/stats', async (c) => {
    const { metrics } = hub;
    const [published, received, delivered, bytes] = await Promise.all([
      total(metrics.eventsPublished),
      total(metrics.eventsReceived),
      total(metrics.eventsDelivered),
      total(metrics.bytesWritten),
    ]);
    const stats = {
      bus: hub.bus.kind,
      busConnected: hub.bus.isConnected(),
      connections: hub.connectionCount,
      busSubscriptions: hub.subscriptionCount,
      eventsPublished: published,
      eventsReceived: received,
      eventsDelivered: delivered,
      bytesWritten: bytes,
    };
    return c.json(stats, 200, { 'Cache-Control': 'no-store' });
  });
}
