/**
 * The admin charts page (`/admin` on the admin listener) in Debian's chromium, against a real hub:
 * it renders, its figures move when events are published (two readings differ), its charts draw
 * lines, and a screenshot is kept in test-artifacts/ to be looked at. Also /admin/stats's shape and
 * its token check.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';

const ARTIFACTS = 'test-artifacts';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

interface PageScope {
  readonly document: { querySelector(selector: string): { readonly textContent: string | null } | null };
}

const readFigure = (name: string): string | null =>
  (globalThis as unknown as PageScope).document.querySelector(`[data-figure="${name}"]`)?.textContent ?? null;

describe('admin charts page [admin] [browser]', () => {
  let hub: TestHub;
  const subs: Subscriber[] = [];
  beforeAll(async () => {
    hub = await startTestHub({ HUB_ADMIN_PORT: '0' });
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    await hub?.shutdown();
  });

  it('[admin] [browser] renders live charts whose figures move as events are published', async () => {
    subs.push(...Array.from({ length: 8 }, () => new Subscriber(hub.url, ['admin.chart'])));
    await Promise.all(subs.map((s) => s.open(1, 10_000)));
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${hub.admin!.url}/admin`);
    await page.waitForFunction(() => (globalThis as unknown as PageScope).document.querySelector('[data-figure="streams"]')?.textContent === '8');
    const before = await page.evaluate(readFigure, 'delivered');

    // Events over a few readings, so the rate and latency lines have points to draw.
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 25; i++) expect((await publish(hub.url, 'admin.chart', `event ${sent++}`)).status).toBe(200);
      await Promise.all(subs.map((s) => s.waitForMessages(sent, 10_000)));
      const seen = String(sent * subs.length);
      await page.waitForFunction((want) => (globalThis as unknown as PageScope).document.querySelector('[data-figure="delivered"]')?.textContent === want, seen, { timeout: 15_000 });
    }
    const after = await page.evaluate(readFigure, 'delivered');
    expect(after).not.toBe(before);
    expect(after).toBe(String(sent * subs.length));

    // Every chart draws, the rate and latency charts from differences of readings.
    for (const id of ['chart-streams', 'chart-in', 'chart-out', 'chart-latency', 'chart-closes']) {
      const points = await page.$$eval(`#${id} polyline`, (lines) => lines.map((line) => line.getAttribute('points')?.split(' ').length ?? 0));
      expect(Math.max(0, ...points), id).toBeGreaterThan(1);
    }
    expect(await page.evaluate(readFigure, 'p99')).toMatch(/^\d+(\.\d+)? ms$/);
    expect(browser.errors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/admin-charts.png`, fullPage: true });
  }, 90_000);

  it('[admin] /admin/stats answers cumulative figures per node; with a token it wants it, the page files do not', async () => {
    const stats = (await (await fetch(`${hub.admin!.url}/admin/stats`, { signal: AbortSignal.timeout(5000) })).json()) as {
      nodes: { node: string; streams: number; delivered: number; latency: { le: number[]; counts: number[]; count: number } }[];
      historyReadings: number;
    };
    expect(stats.historyReadings).toBe(300);
    expect(stats.nodes).toHaveLength(1);
    expect(stats.nodes[0]!.node).toMatch(/\/\d+$/);
    expect(stats.nodes[0]!.latency.le.length).toBe(stats.nodes[0]!.latency.counts.length);

    await using guarded = await startTestHub({ HUB_ADMIN_PORT: '0', HUB_ADMIN_TOKEN: ADMIN_TOKEN });
    const url = guarded.admin!.url;
    expect((await fetch(`${url}/admin/stats`, { signal: AbortSignal.timeout(5000) })).status).toBe(401);
    const authorized = await fetch(`${url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
    expect(authorized.status).toBe(200);
    const pageRes = await fetch(`${url}/admin`, { signal: AbortSignal.timeout(5000) });
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await pageRes.text()).toContain('/admin/admin.js');
  });
});
