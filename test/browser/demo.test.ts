/**
 * The demo page and the client library in a real browser: Debian's chromium driven by playwright-core,
 * against a real hub on port 0. Test names carry "[browser]" so CI can check they ran.
 *
 * Chromium opens at most 6 HTTP/1.1 connections per origin and an EventSource holds one for good:
 * each test uses one tab and one hub (its own origin), so the limit is never near.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { recordRequests } from '../helpers/request-log.js';
import { Subscriber } from '../helpers/sse-client.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

const ARTIFACTS = 'test-artifacts';

/**
 * What the functions run inside the page touch. The project compiles without the DOM library (it is
 * server code), so page functions reach the page's globals through `globalThis` typed as this.
 */
interface PageScope {
  readonly document: {
    querySelectorAll(selector: string): { readonly length: number };
    getElementById(id: string): { readonly textContent: string | null } | null;
  };
  sub?: { readonly state: string; close(): void };
  log: unknown[];
}

interface Row {
  readonly id: string;
  readonly type: string;
  readonly data: string;
}

/** The demo's event table, oldest first (the page shows newest first). */
async function eventRows(page: Page): Promise<Row[]> {
  const rows = await page.$$eval('#events tbody tr.event', (trs) =>
    trs.map((tr) => ({ id: tr.dataset.id ?? '', type: tr.dataset.type ?? '', data: tr.querySelectorAll('td')[3]?.textContent ?? '' })),
  );
  return rows.reverse();
}

async function waitForRows(page: Page, count: number): Promise<Row[]> {
  await page.waitForFunction((n) => (globalThis as unknown as PageScope).document.querySelectorAll('#events tbody tr.event').length >= n, count);
  return eventRows(page);
}

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`#state[data-state="${state}"]`);
}

/** The module script inside the page's "Use it in your page" snippet, as a user would paste it. */
async function snippetScript(page: Page): Promise<string> {
  const text = (await page.textContent('#snippet')) ?? '';
  const script = /^<script type="module">\n([\s\S]*)\n<\/script>$/.exec(text)?.[1];
  expect(script, text).toBeDefined();
  return script!;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

describe('demo page and client in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
  });

  it('[browser] the demo page connects, shows events published over HTTP and from its form, and the hub figures', async () => {
    const hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const page = await browser.newPage();
    try {
      await page.goto(`${hub.url}/`);
      await waitForState(page, 'open');
      // hub.open carries the position: the page shows it with no event yet, as another stream sees it.
      using watcher = new Subscriber(hub.url, ['demo.>']);
      const open = await waitFor('hub.open on a second stream', () => watcher.events.find((e) => e.type === 'hub.open'));
      expect(await page.textContent('#position')).toBe(open.id);
      expect(open.id).not.toBe('');

      const answer = await publish(hub.url, 'demo.hello', '{"hello":"browser"}', 'greeting');
      expect(answer.status).toBe(200);
      const [first] = await waitForRows(page, 1);
      expect(first).toEqual({ id: answer.body.id, type: 'greeting', data: '{"hello":"browser"}' });
      expect(await page.textContent('#position')).toBe(answer.body.id);

      // The form publishes a type the page did not listen for yet: it starts listening first.
      await page.fill('#publish-topic', 'demo.orders.7');
      await page.fill('#publish-type', 'order.created');
      await page.fill('#publish-data', '{"order": 7, "total": "12.50"}');
      await page.click('#publish');
      const rows = await waitForRows(page, 2);
      expect(rows[1]).toMatchObject({ type: 'order.created', data: '{"order": 7, "total": "12.50"}' });
      expect(await page.textContent('#publish-result')).toBe(`published as ${rows[1]!.id}`);
      expect(await page.inputValue('#types')).toContain('order.created');

      // A topic the page is not subscribed to: published, and the page says it will not show here.
      await page.fill('#publish-topic', 'elsewhere.7');
      await page.click('#publish');
      await page.waitForFunction(() => (globalThis as unknown as PageScope).document.getElementById('publish-result')?.textContent?.includes('elsewhere') === true);
      expect(await page.textContent('#publish-result')).toMatch(
        /^published as \S+ \(not shown here: this page subscribes to demo\.>; add elsewhere\.7 under Subscribe to see it\)$/,
      );
      await sleep(200);
      expect(await eventRows(page)).toHaveLength(2);

      // The figures come from /demo/stats: this page's stream is one open connection.
      await page.waitForFunction(() => Number((globalThis as unknown as PageScope).document.getElementById('fig-connections')?.textContent) >= 1);
      await page.waitForFunction(() => (globalThis as unknown as PageScope).document.getElementById('fig-delivered-rate')?.textContent !== '–');
      expect(await page.textContent('#fig-bus')).toBe('memory');
      // Hub-wide, and the page says so.
      expect(await page.textContent('#figures-title')).toContain('this hub, all clients');
      expect(await page.textContent('#snippet')).toContain(`import { subscribe } from '${hub.url}/client/ssehub.js'`);

      await screenshot(page, 'demo-page');
      expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    } finally {
      await page.close();
      await hub.shutdown();
    }
  });

  it('[browser] the snippet listens for the type the form publishes: pasted into another page, it shows the form\'s events', async () => {
    const hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const demo = await browser.newPage();
    const pasted = await browser.newPage();
    try {
      await demo.goto(`${hub.url}/`);
      await waitForState(demo, 'open');
      const formType = await demo.inputValue('#publish-type');
      expect(formType).toBe('greeting');
      expect(await snippetScript(demo)).toContain(`hub.on("${formType}",`);
      // It follows the form as the type is edited.
      await demo.fill('#publish-type', 'order.created');
      expect(await snippetScript(demo)).toContain('hub.on("order.created",');
      await demo.fill('#publish-type', formType);

      // Another page, as a user's would be: the snippet pasted in, its console watched.
      const logged: string[] = [];
      pasted.on('console', (msg) => {
        if (msg.type() === 'log') logged.push(msg.text());
      });
      await pasted.goto(`${hub.url}/healthz`);
      await pasted.addScriptTag({ type: 'module', content: await snippetScript(demo) });
      await waitFor('the pasted snippet to hold a stream', () => hub.hub.connectionCount >= 2);

      await demo.click('#publish');
      const [row] = await waitForRows(demo, 1);
      expect(row).toMatchObject({ type: 'greeting', data: '{"hello": "world"}' });
      await waitFor(`the pasted snippet to log the event (logged: ${logged.join(' | ')})`, () => logged.length >= 1);
      expect(logged).toEqual([`${row!.id} {"hello": "world"}`]);
    } finally {
      await pasted.close();
      await demo.close();
      await hub.shutdown();
    }
  });

  it('[browser] with HS256 auth on, the page shows the refusal; with a token in its field it connects and publishes', async () => {
    const hub = await startTestHub({ HUB_RETRY_MS: '200', HUB_AUTH_HS256_SECRET: HS256_SECRET });
    const requests = recordRequests(hub);
    const authorizations: (string | undefined)[] = [];
    hub.server.on('request', (req) => req.url?.startsWith('/events?') && authorizations.push(req.headers.authorization));
    const page = await browser.newPage();
    try {
      await page.goto(`${hub.url}/`);
      await page.waitForSelector('#refusal:not([hidden])');
      expect(await page.getAttribute('#refusal', 'data-status')).toBe('401');
      expect(await page.textContent('#refusal')).toBe(
        'The hub refused this page\'s stream with 401 (unauthorized: a token is required to subscribe to topic "demo.>"). Paste a token in the Token field, then Subscribe. The page keeps retrying.',
      );
      expect(await page.getAttribute('#state', 'data-state')).toBe('reconnecting');
      await page.click('#publish');
      await page.waitForSelector('#publish-result.bad');
      expect(await page.textContent('#publish-result')).toMatch(/^401: a token is required to publish/);
      await screenshot(page, 'demo-page-refused');

      const token = await mint({ subscribe: ['demo.>'], publish: ['demo.>'] }, { expiresIn: 600 });
      await page.fill('#token', token);
      await page.click('#subscribe');
      await waitForState(page, 'open');
      expect(await page.isHidden('#refusal')).toBe(true);
      // The token goes in a header, never in the URL (the page's stream is its SharedWorker's, with topic fields).
      expect(requests.filter((url) => url.startsWith('/events?')).at(-1)).toBe(`/events?topic=${encodeURIComponent('demo.>')}&fields=topic`);
      expect(authorizations.at(-1)).toBe(`Bearer ${token}`);

      // The same field signs the form's publish (Authorization: Bearer).
      await page.click('#publish');
      const [row] = await waitForRows(page, 1);
      expect(row).toMatchObject({ type: 'greeting', data: '{"hello": "world"}' });
      expect(await page.textContent('#publish-result')).toBe(`published as ${row!.id}`);
      expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    } finally {
      await page.close();
      await hub.shutdown();
    }
  });

  it('[browser] the page resumes after its connection is cut, with no event lost or repeated', async () => {
    // A long retry so the test sees the page in "reconnecting" while events are published.
    const hub = await startTestHub({ HUB_RETRY_MS: '1500' });
    const proxy = new TcpProxy(hub.port);
    const page = await browser.newPage();
    try {
      const origin = await proxy.start();
      await page.goto(`${origin}/`);
      await waitForState(page, 'open');
      for (const n of [1, 2, 3]) await publish(hub.url, 'demo.cut', `event ${n}`);
      await waitForRows(page, 3);

      proxy.cut();
      await waitForState(page, 'reconnecting');
      for (const n of [4, 5, 6]) await publish(hub.url, 'demo.cut', `event ${n}`);
      await waitForState(page, 'open');
      for (const n of [7, 8, 9]) await publish(hub.url, 'demo.cut', `event ${n}`);

      await waitForRows(page, 9);
      await sleep(300);
      const rows = await eventRows(page);
      expect(rows.map((r) => r.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `event ${n}`));
      expect(new Set(rows.map((r) => r.id)).size).toBe(9);
      expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    } finally {
      await page.close();
      await proxy.close();
      await hub.shutdown();
    }
  });

  it('[browser] a page reload resumes from the id kept in sessionStorage', async () => {
    const hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const requests = recordRequests(hub);
    const page = await browser.newPage();
    try {
      await page.goto(`${hub.url}/`);
      await waitForState(page, 'open');
      await page.fill('#topics', 'demo.reload');
      await page.click('#subscribe');
      await waitForState(page, 'open');
      for (const n of [1, 2]) await publish(hub.url, 'demo.reload', `event ${n}`);
      const seen = await waitForRows(page, 2);

      // Away from the page (its stream closes), events go on; back on it, it asks for what it missed.
      await page.goto('about:blank');
      for (const n of [3, 4]) await publish(hub.url, 'demo.reload', `event ${n}`);
      await page.goto(`${hub.url}/`);
      await waitForRows(page, 2);
      await sleep(300);
      expect((await eventRows(page)).map((r) => r.data)).toEqual(['event 3', 'event 4']);
      expect(await page.inputValue('#topics')).toBe('demo.reload');
      const resumed = requests.filter((url) => url.startsWith('/events?topic=demo.reload&lastEventId='));
      expect(resumed.at(-1)).toBe(`/events?topic=demo.reload&lastEventId=${encodeURIComponent(seen[1]!.id)}&fields=topic`);
    } finally {
      await page.close();
      await hub.shutdown();
    }
  });

  it('[browser] hub.reset reaches the onReset hook when a restarted hub no longer has the history', async () => {
    let hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const port = hub.port;
    const page = await browser.newPage();
    try {
      await page.goto(`${hub.url}/`);
      await waitForState(page, 'open');
      await publish(hub.url, 'demo.restart', 'before the restart');
      const [before] = await waitForRows(page, 1);

      await hub.shutdown();
      await waitForState(page, 'reconnecting');
      hub = await startTestHub({ HUB_RETRY_MS: '200', PORT: String(port) });

      // The new hub does not know the old id: the reset row is the demo's onReset hook at work.
      await page.waitForSelector('#events tbody tr.reset');
      const reset = await page.textContent('#events tbody tr.reset td:nth-child(4)');
      expect(reset).toBe(`history gone (unknown-id) after ${before!.id}: reload your state`);
      await waitForState(page, 'open');
      await publish(hub.url, 'demo.restart', 'after the restart');
      const rows = await waitForRows(page, 2);
      expect(rows.map((r) => r.data)).toEqual(['before the restart', 'after the restart']);
    } finally {
      await page.close();
      await hub.shutdown();
    }
  });

  it('[browser] the library in a page: JSON handlers, states, a fresh token on every reconnect, clean close', async () => {
    // The client waits the hub's retry: delay after a dropped stream (as an EventSource does): long
    // enough for the test to publish in the gap.
    const hub = await startTestHub({ HUB_RETRY_MS: '1500', HUB_DEMO: '0' });
    const proxy = new TcpProxy(hub.port);
    const requests = recordRequests(hub);
    const authorizations: (string | undefined)[] = [];
    hub.server.on('request', (req) => req.url?.startsWith('/events?') && authorizations.push(req.headers.authorization));
    const page = await browser.newPage();
    try {
      const origin = await proxy.start();
      // A quiet page on the hub's origin: the library is imported as an ES module from the hub.
      await page.goto(`${origin}/healthz`);
      // A module script as a page would have it (a string, so the test runner's transforms leave it alone).
      await page.addScriptTag({
        type: 'module',
        content: `
          import { subscribe } from '/client/ssehub.js';
          const log = [];
          let tokens = 0;
          const sub = subscribe({
            topics: ['cart.9'],
            json: true,
            token: async () => 'token-' + ++tokens,
            reconnectDelayMs: 1000,
            onState: (state) => log.push('state ' + state),
          });
          sub.on('item.added', (data, meta) => log.push({ data, id: meta.id }));
          Object.assign(globalThis, { sub, log });
        `,
      });
      const log = () => page.evaluate(() => (globalThis as unknown as PageScope).log);
      await page.waitForFunction(() => (globalThis as unknown as PageScope).sub?.state === 'open');
      const first = await publish(hub.url, 'cart.9', '{"sku":"A1","qty":2}', 'item.added');
      await page.waitForFunction(() => (globalThis as unknown as PageScope).log.length >= 2);

      // Cut while the client waits its 1500 ms to reconnect: the event is published in the gap and
      // comes back in the replay, before hub.open.
      proxy.cut();
      await page.waitForFunction(() => (globalThis as unknown as PageScope).log.includes('state reconnecting'));
      const second = await publish(hub.url, 'cart.9', '{"sku":"B2","qty":1}', 'item.added');
      await page.waitForFunction(() => (globalThis as unknown as PageScope).log.length >= 5);
      await sleep(200);
      expect(await log()).toEqual([
        'state open',
        { data: { sku: 'A1', qty: 2 }, id: first.body.id },
        'state reconnecting',
        { data: { sku: 'B2', qty: 1 }, id: second.body.id },
        'state open',
      ]);

      // Tokens go as Authorization headers, not in the URL; the stream is the page's SharedWorker's (topic fields on).
      const streams = requests.filter((url) => url.startsWith('/events?'));
      expect(streams).toEqual(['/events?topic=cart.9&fields=topic', `/events?topic=cart.9&lastEventId=${encodeURIComponent(String(first.body.id))}&fields=topic`]);
      expect(authorizations).toEqual(['Bearer token-1', 'Bearer token-2']);

      await withTimeout('closing in the page', page.evaluate(() => (globalThis as unknown as PageScope).sub?.close()), 5000);
      await page.waitForFunction(() => (globalThis as unknown as PageScope).log.at(-1) === 'state closed');
      await sleep(100);
      expect(hub.hub.connectionCount).toBe(0);
    } finally {
      await page.close();
      await proxy.close();
      await hub.shutdown();
    }
  });
});
