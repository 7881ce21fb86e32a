/**
 * What browsers load from the hub: the client library at /client/ssehub.js (types at /client/ssehub.d.ts,
 * its SharedWorker at /client/ssehub-worker.js)
 * and, unless HUB_DEMO=0, the demo page at / with the figures at /demo/stats (the whole pod's, as /metrics).
 *
 * The files live in client/ (the library built to client/dist/ by `npm run build`, minified). They
 * are read and compressed once at start and served from memory in the coding the request accepts,
 * each coding with its own ETag, so a reload costs a 304.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { readFigures } from '../metrics.js';
import { podMetrics } from '../pod-metrics.js';
import { accepts, compressAll, type ContentCoding } from './content-coding.js';
import type { HttpDeps } from './deps.js';
import { errorResponse } from './respond.js';

// Same relative path from src/http/ (tsx, tests) and from dist/http/ (npm start).
const CLIENT_DIR = new URL('../../client/', import.meta.url);

/** One file in one content coding: the bytes sent and the headers sent with them. */
interface Representation {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface StaticFile {
  readonly identity: Representation;
  /** Compressed representations smaller than the identity one, best coding first. */
  readonly encoded: readonly { readonly coding: ContentCoding; readonly representation: Representation }[];
}

/** Reads a file under client/ once; undefined when it is not there (the library not built yet). */
function load(path: string, contentType: string, extraHeaders: Record<string, string> = {}): StaticFile | undefined {
  let body: Buffer;
  try {
    body = readFileSync(new URL(path, CLIENT_DIR));
  } catch {
    return undefined;
  }
  const encoded = compressAll(body).filter((candidate) => candidate.body.byteLength < body.byteLength);
  // no-cache: the browser keeps the file but asks each time, so a hub upgrade is seen at once.
  // Vary: a cache must not give a gzip answer to a client that did not ask for gzip.
  const common = {
    'Content-Type': contentType,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(encoded.length > 0 ? { Vary: 'Accept-Encoding' } : {}),
    ...extraHeaders,
  };
  const represent = (bytes: Buffer, coding?: ContentCoding): Representation => {
    // The ETag names the bytes sent: each coding has its own (RFC 9110 §8.8.3).
    const etag = etagOf(bytes);
    return { body: new Uint8Array(bytes), etag, headers: Object.freeze({ ...common, ETag: etag, ...(coding ? { 'Content-Encoding': coding } : {}) }) };
  };
  return {
    identity: represent(body),
    encoded: encoded.map(({ coding, body: bytes }) => ({ coding, representation: represent(bytes, coding) })),
  };
}

function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

/** If-None-Match names `etag`: a list, weak (`W/`, as proxies that recompress mark them) or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

function serve(hub: Hub, file: StaticFile | undefined, missing: string) {
  return (c: Context): Response => {
    if (!file) return errorResponse(c, new HubError(ErrorCode.NotFound, missing), hub.metrics);
    const acceptEncoding = c.req.header('accept-encoding');
    const { body, etag, headers } = file.encoded.find(({ coding }) => accepts(acceptEncoding, coding))?.representation ?? file.identity;
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    return c.body(body, 200, headers);
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

// The SharedWorker that holds one connection for every tab of an origin; it imports ./ssehub.js.
// A worker script must be same-origin with its page: pages on other origins share through tabs.
export function clientWorker({ hub }: HttpDeps) {
  return serve(hub, load('dist/ssehub-worker.js', 'text/javascript; charset=utf-8', ANY_ORIGIN), NOT_BUILT);
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
