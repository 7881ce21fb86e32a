/** Starts a real hub (real HTTP server on port 0) in this process, with the settings a test names. */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startHub, type RunningHub } from '../../src/server.js';
import { OPEN_ON_PURPOSE } from './open-mode.js';

export type TestHub = RunningHub & AsyncDisposable;

export async function startTestHub(env: Record<string, string> = {}): Promise<TestHub> {
  // Drain window 0: a test's shutdown ends its streams at once unless the test is about draining.
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', HUB_DRAIN_WINDOW_MS: '0', ...OPEN_ON_PURPOSE, ...env });
  const running = await startHub(config, createLogger(config.logLevel));
  return Object.assign(running, { [Symbol.asyncDispose]: () => running.shutdown() });
}

export async function publish(hubUrl: string, topic: string, data: string, event?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ topic });
  if (event !== undefined) query.set('event', event);
  const res = await fetch(`${hubUrl}/publish?${query}`, { method: 'POST', body: data, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
