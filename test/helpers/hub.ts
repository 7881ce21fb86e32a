/** Starts a real hub (real HTTP server on port 0) in this process, with the settings a test names. */
import { loadConfig } from '../../src/config.js';
import { settingsFrom } from '../../src/config/env-file.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startHub, type RunningHub } from '../../src/server.js';
import { OPEN_ON_PURPOSE } from './open-mode.js';
import { waitFor } from './wait.js';

export type TestHub = RunningHub & AsyncDisposable;

export interface TestHubOptions {
  /** Where the hub logs (a captured log, see log-capture.ts); by default stdout at TEST_LOG_LEVEL. */
  readonly log?: Logger;
  /**
   * Return as soon as it listens, connected to its bus or not (a test of starting without NATS).
   * By default a hub is returned ready, as a load balancer would first see it: a hub whose bus is
   * not connected refuses new streams with 503.
   */
  readonly unready?: true;
}

export async function startTestHub(env: Record<string, string> = {}, options: TestHubOptions = {}): Promise<TestHub> {
  // Drain window 0: a test's shutdown ends its streams at once unless the test is about draining.
  // A reload reads these same settings again (and HUB_CONFIG_FILE, when a test names one).
  const settings = settingsFrom({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', HUB_DRAIN_WINDOW_MS: '0', ...OPEN_ON_PURPOSE, ...env });
  const config = loadConfig(settings.start);
  const running = await startHub(config, options.log ?? createLogger(config.logLevel), settings);
  if (!options.unready) {
    await waitFor('the test hub to connect to its bus', () => running.hub.isReady, 20_000).catch(async (err: unknown) => {
      await running.shutdown();
      throw err;
    });
  }
  return Object.assign(running, { [Symbol.asyncDispose]: () => running.shutdown() });
}

export async function publish(hubUrl: string, topic: string, data: string, event?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ topic });
  if (event !== undefined) query.set('event', event);
  const res = await fetch(`${hubUrl}/publish?${query}`, { method: 'POST', body: data, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
