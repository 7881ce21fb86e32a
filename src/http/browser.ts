/**
 * What browsers load from the hub: the client library at /client/ssehub.js (types at /client/ssehub.d.ts)
 * and, unless HUB_DEMO=0, the demo page at / with the figures at /demo/stats (the whole pod's, as /metrics).
 *
 * The files live in client/ (the library compiled to client/dist/ by `npm run build`). They are read
 * once at start and served from memory with an ETag, so a reload costs a 304.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { readFigures } from '../metrics.js';
import { podMetrics } from '../pod-metrics.js';
import type { HttpDeps } from './deps.js';
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

const NOT_BUILT = 'the client library is not built on this hub: run "npm run build"';
const DEMO_MISSING = 'the demo files are missing from client/demo/';
// A module script from another origin is fetched with CORS: pages anywhere may import the library.
const ANY_ORIGIN = { 'Access-Control-Allow-Origin': '*' };

export function clientScript({ hub, log }: HttpDeps) {
  const script = load('dist/ssehub.js', 'text/javascript; charset=utf-8', ANY_ORIGIN);
  if (!script) log.warn({ dir: CLIENT_DIR.pathname }, 'client library not built (npm run build): /client/ssehub.js and the demo page will not work');
  return serve(hub, script, NOT_BUILT);
}

export function clientTypes({ hub }: HttpDeps) {
  return serve(hub, load('dist/ssehub.d.ts', 'application/typescript; charset=utf-8', ANY_ORIGIN), NOT_BUILT);
}

// The demo loads only its own files and talks only to this hub.
export function demoPage({ hub }: HttpDeps) {
  return serve(hub, load('demo/index.html', 'text/html; charset=utf-8', { 'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'" }), DEMO_MISSING);
}

export function demoScript({ hub }: HttpDeps) {
  return serve(hub, load('demo/demo.js', 'text/javascript; charset=utf-8'), DEMO_MISSING);
}

export function demoStyles({ hub }: HttpDeps) {
  return serve(hub, load('demo/demo.css', 'text/css; charset=utf-8'), DEMO_MISSING);
}

// The pod's figures, as /metrics gives them: with HUB_WORKERS > 1, every worker's together.
export function demoStats({ hub, config, log }: HttpDeps) {
  const pod = podMetrics(hub.metrics.registry, config, log);
  return async (c: Context): Promise<Response> => {
    const figures = await readFigures(await pod.read());
    return c.json({ bus: hub.bus.kind, ...figures }, 200, { 'Cache-Control': 'no-store' });
  };
}
