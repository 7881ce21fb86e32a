/**
 * One hub connection for all tabs, in Debian's chromium (playwright-core) against a real hub over
 * HTTP/1.1: tabs are pages of one browser context on the hub's origin, importing the library from
 * the hub. Chromium allows 6 connections per origin, so eight tabs with their own streams would
 * stall (the control case shows it); shared, the hub sees one stream. The SharedWorker is the
 * default; tabs whose page hides `SharedWorker` share through Web Locks and a BroadcastChannel,
 * where closing the holding tab hands the connection over. Every test uses a hub of its own (its
 * own origin, so its own six connections and its own worker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { captureLog } from '../helpers/log-capture.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { recordRequests } from '../helpers/request-log.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** What page functions touch (the project compiles without the DOM library). */
interface TabScope {
  sub?: {
    readonly state: string;
    readonly sharing: { via: string; tabs: number };
    subscribe(topic: string): void;
    unsubscribe(topic: string): void;
    close(): void;
  };
  log: string[];
}

interface TabOptions {
  readonly topics: readonly string[];
  /** Hide SharedWorker from the page: the tabs then share through Web Locks + BroadcastChannel. */
  readonly viaTabs?: boolean;
  readonly rewind?: number;
  /** A token the page's token function returns. */
  readonly token?: string;
}

/** A tab on the hub's origin that subscribes with the library; its `log` has the data of each event, in order. */
async function openTab(browser: Browser, hub: TestHub, options: TabOptions): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${hub.url}/healthz`);
  const settings = JSON.stringify({ topics: options.topics, rewind: options.rewind ?? 0, reconnectDelayMs: 100 });
  await page.addScriptTag({
    type: 'module',
    content: `
      import { subscribe } from '/client/ssehub.js';
      ${options.viaTabs ? 'delete globalThis.SharedWorker;' : ''}
      const log = [];
      const sub = subscribe({
        ...${settings},
        ${options.token ? `token: async () => ${JSON.stringify(options.token)},` : ''}
        onReset: (reset) => log.push('reset ' + reset.reason),
        onError: (error) => log.push('error ' + error),
      });
      sub.on('message', (data) => log.push(data));
      Object.assign(globalThis, { sub, log });
    `,
  });
  return page;
}

const events = (page: Page) => page.evaluate(() => (globalThis as unknown as TabScope).log);
/** How many streams of the hub would get an event on `topic` now (GET /presence; open mode allows it). */
async function presenceStreams(url: string, topic: string): Promise<number> {
  const res = await fetch(`${url}/presence?topic=${encodeURIComponent(topic)}`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /presence answered ${res.status}`);
  return ((await res.json()) as { streams: number }).streams;
}

const waitOpen = (page: Page) => page.waitForFunction(() => (globalThis as unknown as TabScope).sub?.state === 'open');
async function waitForLog(page: Page, count: number): Promise<string[]> {
  await page.waitForFunction((n) => (globalThis as unknown as TabScope).log.length >= n, count, { timeout: 15_000 });
  return events(page);
}

async function openStreams(hub: TestHub): Promise<number | undefined> {
  return metricValue(await scrapeMetrics(hub.url), 'ssehub_connections');
}

// Eight tabs on a shared 2-core machine take a while to load; every wait inside is bounded on its own.
describe('connection sharing in chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let nats: NatsServer | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await nats?.[Symbol.asyncDispose]();
  });
  const jetstream = async () => jetstreamEnv((nats ??= await startNatsServer({ jetstream: true })));

  it('[browser] eight tabs over HTTP/1.1 share one stream (SharedWorker): each gets exactly the events of its topics, in order', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const topicsOf = (i: number) => (i === 7 ? ['t.*'] : [`t.${i % 3}`, ...(i === 6 ? ['t.extra'] : [])]);
    const tabs: Page[] = [];
    try {
      for (let i = 0; i < 8; i++) tabs.push(await openTab(browser, hub, { topics: topicsOf(i) }));
      for (const tab of tabs) await waitOpen(tab);
      await waitFor('every tab to have joined', async () => (await tabs[7]!.evaluate(() => (globalThis as unknown as TabScope).sub!.sharing.tabs)) === 8, 10_000);
      expect(await tabs[0]!.evaluate(() => (globalThis as unknown as TabScope).sub!.sharing)).toEqual({ via: 'worker', tabs: 8 });
      expect(await openStreams(hub)).toBe(1);

      const published: [topic: string, data: string][] = [];
      for (let n = 0; n < 30; n++) {
        const topic = n % 10 === 9 ? 't.extra' : `t.${n % 3}`;
        published.push([topic, `${topic}#${n}`]);
        await publish(hub.url, topic, `${topic}#${n}`);
      }
      const matches = (patterns: readonly string[], topic: string) => patterns.some((p) => p === topic || (p === 't.*' && topic.startsWith('t.')));
      for (let i = 0; i < 8; i++) {
        const expected = published.filter(([topic]) => matches(topicsOf(i), topic)).map(([, data]) => data);
        expect(await waitForLog(tabs[i]!, expected.length), `tab ${i}`).toEqual(expected);
      }
      await sleep(100);
      for (let i = 0; i < 8; i++) expect((await events(tabs[i]!)).length, `tab ${i} got nothing more`).toBe(published.filter(([t]) => matches(topicsOf(i), t)).length);
      expect(await openStreams(hub)).toBe(1);
    } finally {
      for (const tab of tabs) await tab.close();
    }
  });

  it('[browser] the demo page shows how many tabs share its connection', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const tabs: Page[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage();
        tabs.push(page);
        await page.goto(`${hub.url}/`);
      }
      for (const tab of tabs) await tab.waitForSelector('#state[data-state="open"]');
      await tabs[0]!.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('sharing').textContent.includes('3 tabs'));
      expect(await tabs[0]!.textContent('#sharing')).toBe('1 connection shared by 3 tabs, held by a SharedWorker');
      expect(await openStreams(hub)).toBe(1);
      await tabs.pop()!.close();
      await tabs[0]!.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('sharing').textContent.includes('2 tabs'));
    } finally {
      for (const tab of tabs) await tab.close();
    }
  });

  it('[browser] the control case: eight tabs with a plain EventSource each; the seventh stalls while six hold their connections', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const requests = recordRequests(hub);
    const tabs: Page[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const page = await browser.newPage();
        tabs.push(page);
        await page.goto(`${hub.url}/healthz?tab=${i}`);
        await page.evaluate(
          () =>
            new Promise<void>((resolve) => {
              const g = globalThis as unknown as { EventSource: new (url: string) => { addEventListener(t: string, f: () => void): void; close(): void }; es?: { close(): void } };
              const es = new g.EventSource('/events?topic=control');
              g.es = es;
              es.addEventListener('hub.open', () => resolve());
            }),
        );
      }
      await waitFor('six streams at the hub', () => hub.hub.connectionCount === 6, 10_000);
      const seventh = await browser.newPage();
      tabs.push(seventh);
      const asked = new Promise<void>((resolve) => seventh.on('request', (req) => req.url().includes('tab=6') && resolve()));
      const navigation = seventh.goto(`${hub.url}/healthz?tab=6`, { timeout: 20_000 });
      // The browser has issued the request (a positive signal), and the hub does not get it: no connection is free.
      await asked;
      await sleep(1000);
      expect(requests).not.toContain('/healthz?tab=6');
      // One tab lets go of its stream: the seventh's navigation goes through at once.
      await tabs[0]!.evaluate(() => (globalThis as unknown as { es: { close(): void } }).es.close());
      expect((await navigation)?.status()).toBe(200);
      expect(requests).toContain('/healthz?tab=6');
    } finally {
      for (const tab of tabs) await tab.close();
    }
  });

  it('[browser] closing the tab that holds the connection (Web Locks) while a publisher publishes: another takes over, no tab loses or repeats an event', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '200' });
    const first = await openTab(browser, hub, { topics: ['orders.>'], viaTabs: true });
    await waitOpen(first);
    const others = [await openTab(browser, hub, { topics: ['orders.>'], viaTabs: true }), await openTab(browser, hub, { topics: ['orders.even'], viaTabs: true })];
    try {
      for (const tab of others) await waitOpen(tab);
      expect(await first.evaluate(() => (globalThis as unknown as TabScope).sub!.sharing.via)).toBe('tab');
      expect(await openStreams(hub)).toBe(1);
      const TOTAL = 120;
      const publisher = (async () => {
        for (let n = 0; n < TOTAL; n++) {
          await publish(hub.url, n % 2 ? 'orders.odd' : 'orders.even', String(n));
          if (n % 10 === 0) await sleep(5);
        }
      })();
      await waitForLog(others[0]!, 40);
      // The first tab got the lock first: it holds the connection. Closing it hands the lock on.
      await first.close();
      await publisher;
      const all = Array.from({ length: TOTAL }, (_, n) => String(n));
      expect(await waitForLog(others[0]!, TOTAL)).toEqual(all);
      expect(await waitForLog(others[1]!, TOTAL / 2)).toEqual(all.filter((n) => Number(n) % 2 === 0));
      await sleep(100);
      expect((await events(others[0]!)).length).toBe(TOTAL);
      await waitFor('one stream at the hub again', async () => (await openStreams(hub)) === 1, 10_000);
      expect(await others[1]!.evaluate(() => (globalThis as unknown as TabScope).sub!.sharing)).toEqual({ via: 'tab', tabs: 2 });
    } finally {
      for (const tab of others) await tab.close();
    }
  });

  for (const via of ['worker', 'tabs'] as const) {
    it(`[browser] [jetstream] a tab adds and removes topics (${via}): each tab's events stay exact`, async () => {
      await using hub = await startTestHub({ HUB_RETRY_MS: '200', ...(await jetstream()) });
      const requests = recordRequests(hub);
      const a = await openTab(browser, hub, { topics: ['a'], viaTabs: via === 'tabs' });
      await waitOpen(a);
      const b = await openTab(browser, hub, { topics: ['b'], viaTabs: via === 'tabs' });
      try {
        await waitOpen(b);
        await publish(hub.url, 'a', 'a1');
        await publish(hub.url, 'b', 'b1');
        await waitForLog(a, 1);
        await waitForLog(b, 1);
        await a.evaluate(() => (globalThis as unknown as TabScope).sub!.subscribe('c'));
        // The change takes effect at one position: events of c count once the hub has applied it,
        // which its presence answer shows.
        await waitFor('the shared stream to listen to c', async () => (await presenceStreams(hub.url, 'c')) === 1, 10_000);
        await publish(hub.url, 'c', 'c1');
        await publish(hub.url, 'a', 'a2');
        await waitForLog(a, 3);
        await a.evaluate(() => (globalThis as unknown as TabScope).sub!.unsubscribe('a'));
        await waitFor('the shared stream to stop listening to a', async () => (await presenceStreams(hub.url, 'a')) === 0, 10_000);
        await publish(hub.url, 'a', 'a3');
        await publish(hub.url, 'b', 'b2');
        await publish(hub.url, 'c', 'c2');
        expect(await waitForLog(a, 4)).toEqual(['a1', 'c1', 'a2', 'c2']);
        expect(await waitForLog(b, 2)).toEqual(['b1', 'b2']);
        await sleep(100);
        expect(await events(a)).toEqual(['a1', 'c1', 'a2', 'c2']);
        expect(await openStreams(hub)).toBe(1);
        // The changes went through the live-subscriptions API: one stream at the hub throughout.
        expect(requests.filter((u) => u.startsWith('/events?'))).toHaveLength(1);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it('[browser] a token goes as Authorization: Bearer on the shared connection; the URL and the hub log never carry it', async () => {
    const captured = captureLog('debug');
    await using hub = await startTestHub({ HUB_RETRY_MS: '200', HUB_AUTH_HS256_SECRET: HS256_SECRET, LOG_LEVEL: 'debug' }, { log: captured.log });
    const token = await mint({ subscribe: ['private.>'] }, { expiresIn: 600 });
    const publisher = await mint({ publish: ['private.>'] }, { expiresIn: 600 });
    const seen: { url: string; authorization: string | undefined }[] = [];
    hub.server.on('request', (req) => seen.push({ url: req.url ?? '', authorization: req.headers.authorization }));
    const tabs = [await openTab(browser, hub, { topics: ['private.1'], token }), await openTab(browser, hub, { topics: ['private.2'], token })];
    try {
      for (const tab of tabs) await waitOpen(tab);
      for (const topic of ['private.1', 'private.2']) {
        const res = await fetch(`${hub.url}/publish?topic=${topic}`, { method: 'POST', body: topic, headers: { Authorization: `Bearer ${publisher}` }, signal: AbortSignal.timeout(5000) });
        expect(res.status).toBe(200);
      }
      expect(await waitForLog(tabs[0]!, 1)).toEqual(['private.1']);
      expect(await waitForLog(tabs[1]!, 1)).toEqual(['private.2']);
      const streams = seen.filter((r) => r.url.startsWith('/events'));
      expect(streams.length).toBeGreaterThanOrEqual(1);
      for (const stream of streams) {
        expect(stream.authorization).toBe(`Bearer ${token}`);
        expect(stream.url).not.toContain(token);
        expect(stream.url).not.toContain('access_token');
      }
      for (const line of captured.lines) expect(line).not.toContain(token);
      expect(await openStreams(hub)).toBe(1);
    } finally {
      for (const tab of tabs) await tab.close();
    }
  });

  for (const bus of ['memory', 'jetstream'] as const) {
    it(`[browser] [${bus}] rewind gives each tab the backlog of its topics, then live events`, async () => {
      await using hub = await startTestHub({ HUB_RETRY_MS: '200', ...(bus === 'jetstream' ? await jetstream() : {}) });
      // The embedded bus keeps only what the hub received: a stream must hold the topics meanwhile.
      using keeper = new Subscriber(hub.url, ['news.>']);
      await keeper.open();
      for (let n = 1; n <= 6; n++) await publish(hub.url, n % 2 ? 'news.odd' : 'news.even', String(n));
      await keeper.waitForMessages(6);
      const first = await openTab(browser, hub, { topics: ['news.even'], rewind: 2 });
      await waitOpen(first);
      const second = await openTab(browser, hub, { topics: ['news.odd', 'news.even'], rewind: 4 });
      try {
        await waitOpen(second);
        expect(await waitForLog(first, 2)).toEqual(['4', '6']);
        expect(await waitForLog(second, 4)).toEqual(['3', '4', '5', '6']);
        await publish(hub.url, 'news.even', 'live');
        expect(await waitForLog(first, 3)).toEqual(['4', '6', 'live']);
        expect(await waitForLog(second, 5)).toEqual(['3', '4', '5', '6', 'live']);
        expect((await events(first)).concat(await events(second)).some((entry) => entry.startsWith('reset'))).toBe(false);
      } finally {
        await first.close();
        await second.close();
      }
    });
  }
});
