/**
 * The npm package (client/package.json) as a frontend app gets it: `npm pack`, the tarball installed
 * into a small Vite app in a temporary folder (offline: the package has no dependencies), built with
 * Vite (the root package's devDependency), and the built page run in Debian's chromium against a
 * real hub on another origin (CORS), its SharedWorker bundled by Vite beside the page.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** The built app, served as static files (the page's origin, not the hub's). */
function serveStatic(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = readFileSync(join(dir, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'Content-Type': TYPES[extname(path) || '.html'] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the npm package in a Vite app', { timeout: 120_000 }, () => {
  let browser: Browser;
  const work = mkdtempSync(join(tmpdir(), 'ssehub-vite-app-'));
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  it('[browser] npm pack, install into a Vite app, vite build: the built page subscribes through its bundled SharedWorker', async () => {
    // The test run has built the client (npm test runs build:client first); packing without the
    // prepack build keeps this test from rewriting client/dist/ while other test files serve it.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--silent'], { cwd: join(ROOT, 'client'), timeout: 60_000 });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    const app = join(work, 'app');
    await run('mkdir', ['-p', join(app, 'src')]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }));
    writeFileSync(join(app, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/src/main.js"></script>');
    writeFileSync(
      join(app, 'src', 'main.js'),
      `import { subscribe } from 'ssehub-client';
       const log = [];
       const sub = subscribe({ url: window.HUB_URL ?? new URLSearchParams(location.search).get('hub'), topics: ['app.news'], json: true });
       sub.on('message', (data, meta) => log.push({ data, id: meta.id }));
       Object.assign(globalThis, { sub, log });`,
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', tarball], { cwd: app, timeout: 60_000 });
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'ssehub-client', 'package.json'), 'utf8')) as { name: string; dependencies?: unknown };
    expect(installed.name).toBe('ssehub-client');
    expect(installed.dependencies).toBeUndefined();

    await run(process.execPath, [VITE, 'build', '--logLevel', 'warn'], { cwd: app, timeout: 90_000 });
    const assets = readdirSync(join(app, 'dist', 'assets'));
    // Vite found the library's `new SharedWorker(new URL(...), { type: 'module' })` and bundled the worker.
    expect(assets.some((name) => /worker/i.test(name)), assets.join(', ')).toBe(true);

    const site = await serveStatic(join(app, 'dist'));
    const pageOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    await using hub = await startTestHub({ HUB_RETRY_MS: '200', HUB_CORS_ORIGINS: pageOrigin });
    const page = await browser.newPage();
    try {
      await page.goto(`${pageOrigin}/?hub=${encodeURIComponent(hub.url)}`);
      type Scope = { sub?: { state: string; sharing: { via: string } }; log: { data: unknown; id: string }[] };
      await page.waitForFunction(() => (globalThis as unknown as Scope).sub?.state === 'open', undefined, { timeout: 15_000 });
      expect(await page.evaluate(() => (globalThis as unknown as Scope).sub!.sharing.via)).toBe('worker');
      const sent = await publish(hub.url, 'app.news', '{"headline":"built with vite"}');
      await page.waitForFunction(() => (globalThis as unknown as Scope).log.length >= 1);
      expect(await page.evaluate(() => (globalThis as unknown as Scope).log)).toEqual([{ data: { headline: 'built with vite' }, id: sent.body.id }]);
      await waitFor('one stream at the hub', () => hub.hub.connectionCount === 1, 5000);
      expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    } finally {
      await page.close();
      await new Promise((resolve) => site.close(resolve));
    }
  });
});
