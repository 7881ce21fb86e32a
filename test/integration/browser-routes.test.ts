/**
 * What the hub serves to browsers, over real HTTP: the client library, the demo page and its figures,
 * and HUB_DEMO=0 turning the demo off. (The page itself runs in chromium in test/browser/.)
 */
import { describe, expect, it } from 'vitest';
import { get } from '../helpers/http.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

describe('browser routes', () => {
  it('serves the compiled client library as an ES module any origin may import, with an ETag', async () => {
    await using hub = await startTestHub();
    const res = await get(`${hub.url}/client/ssehub.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = await res.text();
    expect(body).toContain('export function subscribe(');
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
