/**
 * HUB_WORKERS=2 on a real nats-server: the real entry point (src/main.ts) forks two workers that
 * share one port; the load generator's smoke case checks that every subscriber gets every event
 * once whichever worker holds its stream and whichever took the HTTP publish; SIGTERM stops all.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CASES } from '../../loadtest/lib/cases.js';
import { processTree } from '../../loadtest/lib/proc.js';
import { runCase } from '../../loadtest/lib/run-case.js';
import { BENCH_ENV, TargetKind, ssehubTarget } from '../../loadtest/lib/targets.js';
import { freePort } from '../helpers/net.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { expectCleanRun } from '../helpers/smoke-run.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

let nats: NatsServer | undefined;
let jsNats: NatsServer | undefined;
afterAll(async () => {
  await nats?.[Symbol.asyncDispose]();
  await jsNats?.[Symbol.asyncDispose]();
});

/**
 * Runs the real entry point with HUB_WORKERS=2 on `env`, waits until every worker answers ready, runs
 * `check` against it, then stops it with SIGTERM and expects exit 0.
 */
async function withCluster(env: Record<string, string>, check: (port: number, pid: number) => Promise<void>): Promise<void> {
  const port = await freePort();
  const hub = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...BENCH_ENV, HOST: '127.0.0.1', PORT: String(port), HUB_WORKERS: '2', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => hub.once('exit', (code) => resolve(code)));
  try {
    await waitFor('two workers', () => processTree(hub.pid!).length >= 3, 20_000, 100);
    // Connections go to the workers in turn: several answers in a row cover both.
    await waitFor('both workers ready', async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)));
      return answers.every(Boolean);
    }, 20_000, 100);
    await check(port, hub.pid!);
  } finally {
    hub.kill('SIGTERM');
    const code = await withTimeout('the cluster to stop', exited, 20_000).catch(() => {
      hub.kill('SIGKILL');
      return 'killed';
    });
    expect(code).toBe(0);
  }
}

describe('[nats] cluster of hub workers', () => {
  it('[nats] [loadtest] two workers on one port deliver every event once to every subscriber, and stop on SIGTERM', async () => {
    nats = await startNatsServer();
    await withCluster({ NATS_URL: nats.url }, async (port, pid) => {
      // Publish over HTTP (any worker takes it and NATS brings it to both): no reconnect storm,
      // since ids are per worker and a resume on the other worker rightly gets hub.reset.
      const target = { ...ssehubTarget(TargetKind.SsehubCluster, port, pid, undefined) };
      const spec = { ...CASES.smoke!, id: 'smoke-cluster', stormAtSeconds: undefined };
      const result = await runCase(target, spec);
      const report = expectCleanRun(result);
      expect(result.published, report).toBeGreaterThan(0);
    });
  }, 90_000);
});

describe('[jetstream] cluster of hub workers', () => {
  it('[jetstream] [loadtest] two workers share ids: a reconnect storm across workers loses and repeats nothing', async () => {
    jsNats = await startNatsServer({ jetstream: true });
    await withCluster({ NATS_URL: jsNats.url, HUB_JETSTREAM: '1' }, async (port, pid) => {
      const target = { ...ssehubTarget(TargetKind.SsehubCluster, port, pid, undefined) };
      const result = await runCase(target, CASES.smoke!);
      const report = expectCleanRun(result);
      expect(result.published, report).toBeGreaterThan(0);
      expect(result.notCaughtUp, report).toBe(0); // undefined would mean the storm never ran
    });
  }, 90_000);
});
