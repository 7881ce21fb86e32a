/**
 * Debian's chromium (apt package `chromium`, installed by scripts/test.sh), driven by playwright-core.
 * Never a downloaded browser. Each launch gets a fresh profile directory, removed on dispose.
 * No fallback: a missing binary fails the test loudly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser extends AsyncDisposable {
  readonly context: BrowserContext;
  /** A new tab whose console errors and page errors are collected in `errors`. */
  newPage(): Promise<Page>;
  readonly errors: string[];
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`chromium is not installed (${CHROMIUM_BIN}): run "npm test", which installs it with apt, or "apt-get install chromium"`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'ssehub-chromium-'));
  const errors: string[] = [];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
      viewport: { width: 1280, height: 900 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  // Every page action and expectation is bounded, so a regression fails with a message.
  context.setDefaultTimeout(10_000);
  return {
    context,
    errors,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
      });
      return page;
    },
    async [Symbol.asyncDispose]() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
