/**
 * What the hub serves to browsers, over real HTTP: the client library (minified, compressed as the
 * request allows), the demo page and its figures, and HUB_DEMO=0 turning the demo off. (The page
 * itself runs in chromium in test/browser/.)
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { measureClient } from '../helpers/client-size.js';
import { get, REQUEST_TIMEOUT_MS } from '../helpers/http.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

interface RawGet {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** GET with node:http, which (unlike fetch) sends no Accept-Encoding of its own and decodes nothing. */
function getBytes(url: string, headers: Record<string, string> = {}): Promise<RawGet> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser routes', () => {
  it('serves the built client library as an ES module any origin may import, with an ETag', async () => {
    await using hub = await startTestHub();
    const res = await get(`${hub.url}/client/ssehub.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = await res.text();
    expect(body).toMatch(/export\{.*\bas subscribe\b.*\}/);
    expect(body).not.toMatch(/: (string|number|boolean)\b[,)]/); // compiled: no type annotations left
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get(`${hub.url}/client/ssehub.js`, { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const types = await get(`${hub.url}/client/ssehub.d.ts`);
    expect(types.status).toBe(200);
    expect(await types.text()).toContain('export declare function subscribe<');
  });

  it('serves the client minified, gzip or Brotli as Accept-Encoding allows, the sizes npm run client:size reports, an ETag per coding', async () => {
    await using hub = await startTestHub();
    const url = `${hub.url}/client/ssehub.js`;
    const size = measureClient();

    const plain = await getBytes(url);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    // Minified: no comments, no indentation (the source has both; esbuild's only line breaks are
    // inside template literals, where one saves a byte over "\n").
    const code = plain.body.toString('utf8');
    expect(code.split('\n').length).toBeLessThan(10);
    expect(code).not.toMatch(/\/\*|\n\s/);
    // The size figures are the library's and its SharedWorker's together; the worker is smaller
    // than any coding of it, so it is sent as it is whatever the request accepts.
    const worker = await getBytes(`${hub.url}/client/ssehub-worker.js`, { 'Accept-Encoding': 'gzip, br' });
    expect(worker.status).toBe(200);
    expect(worker.headers['content-encoding']).toBeUndefined();
    expect(worker.body.toString()).toMatch(/^import\{serveWorker as \w+\}from"\.\/ssehub\.js";\w+\(self\);\n?$/);
    const workerBytes = worker.body.byteLength;
    expect(plain.body.byteLength + workerBytes).toBe(size.minifiedBytes);
    expect(Number(plain.headers['content-length']) + workerBytes).toBe(size.minifiedBytes);

    const codings = [
      { acceptEncoding: 'gzip', coding: 'gzip', decode: gunzipSync, bytes: size.gzippedBytes },
      // What Chromium sends: Brotli, the smaller, wins.
      { acceptEncoding: 'gzip, deflate, br, zstd', coding: 'br', decode: brotliDecompressSync, bytes: size.brotliBytes },
      { acceptEncoding: 'br;q=0, gzip;q=0.5', coding: 'gzip', decode: gunzipSync, bytes: size.gzippedBytes },
      { acceptEncoding: '*', coding: 'br', decode: brotliDecompressSync, bytes: size.brotliBytes },
    ];
    const etags = new Set([plain.headers.etag]);
    for (const { acceptEncoding, coding, decode, bytes } of codings) {
      const res = await getBytes(url, { 'Accept-Encoding': acceptEncoding });
      expect(res.status, acceptEncoding).toBe(200);
      expect(res.headers['content-encoding'], acceptEncoding).toBe(coding);
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(res.body.byteLength + workerBytes, acceptEncoding).toBe(bytes);
      expect(Number(res.headers['content-length']) + workerBytes).toBe(bytes);
      expect(decode(res.body).equals(plain.body), `${acceptEncoding}: decoded equals the plain answer`).toBe(true);
      expect(res.headers.etag).not.toBe(plain.headers.etag);
      etags.add(res.headers.etag);

      // Its ETag revalidates its coding, and only that one.
      const same = await getBytes(url, { 'Accept-Encoding': acceptEncoding, 'If-None-Match': res.headers.etag! });
      expect(same.status, acceptEncoding).toBe(304);
      expect(same.body.byteLength).toBe(0);
      expect(same.headers.etag).toBe(res.headers.etag);
      expect((await getBytes(url, { 'Accept-Encoding': acceptEncoding, 'If-None-Match': plain.headers.etag! })).status).toBe(200);
    }
    expect(etags.size).toBe(3);

    // Refused codings, an unknown one, or none at all: the file as it is.
    for (const acceptEncoding of ['gzip;q=0, br;q=0', 'zstd', '']) {
      const res = await getBytes(url, { 'Accept-Encoding': acceptEncoding });
      expect(res.headers['content-encoding'], acceptEncoding).toBeUndefined();
      expect(res.body.equals(plain.body)).toBe(true);
    }
    // A proxy that recompressed the answer holds a weak ETag: it still revalidates.
    expect((await getBytes(url, { 'If-None-Match': `"other", W/${plain.headers.etag}` })).status).toBe(304);
  });

  it('serves the demo page, its script and style, and live figures', async () => {
    await using hub = await startTestHub();
    const page = await get(`${hub.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'self'; frame-ancestors 'none'");
    expect(await page.text()).toContain('<script type="module" src="/demo/demo.js"></script>');
    for (const [path, type] of [['/demo/demo.js', 'text/javascript'], ['/demo/demo.css', 'text/css']] as const) {
      const res = await get(`${hub.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
    }

    using sub = new Subscriber(hub.url, ['stats.t']);
    await sub.open();
    await publish(hub.url, 'stats.t', 'x');
    await sub.waitForMessages(1);
    const stats = await waitFor('figures with the delivery', async () => {
      const body = (await (await get(`${hub.url}/demo/stats`)).json()) as Record<string, unknown>;
      return body.eventsDelivered === 1 && body;
    });
    expect(stats).toEqual({
      bus: 'memory',
      busConnected: true,
      connections: 1,
      busSubscriptions: 1,
      eventsPublished: 1,
      eventsReceived: 1,
      eventsDelivered: 1,
      bytesWritten: expect.any(Number),
    });
  });

  it('HUB_DEMO=0 turns the demo off and keeps the client library', async () => {
    await using hub = await startTestHub({ HUB_DEMO: '0' });
    for (const path of ['/', '/demo/demo.js', '/demo/stats']) {
      const res = await get(`${hub.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: `no route for GET ${path}`, code: 'not_found' });
    }
    expect((await get(`${hub.url}/client/ssehub.js`)).status).toBe(200);
  });
});
