/**
 * The real entry point (src/main.ts, through tsx) with HUB_WORKERS=2: the primary forks two workers
 * that share one port. Ready once every worker answers /readyz; stopped with SIGTERM, which must end
 * the whole cluster with exit code 0.
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { processTree } from '../../loadtest/lib/proc.js';
import { BENCH_ENV } from '../../loadtest/lib/targets.js';
import { freePort } from './net.js';
import { waitFor, withTimeout } from './wait.js';

/**
 * Runs two workers on `env` (over the load generator's settings), waits until both answer ready,
 * runs `check` against them, then stops them with SIGTERM and expects exit 0.
 */
export async function withCluster(env: Record<string, string>, check: (port: number, pid: number) => Promise<void>): Promise<void> {
  const port = await freePort();
  const hub = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...BENCH_ENV, HOST: '127.0.0.1', PORT: String(port), HUB_WORKERS: '2', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => hub.once('exit', (code) => resolve(code)));
  try {
    // Generous: two workers compiling the hub through tsx on a machine shared with other jobs.
    await waitFor('two workers', () => processTree(hub.pid!).length >= 3, 45_000, 100);
    // Connections go to the workers in turn: several answers in a row cover both.
    await waitFor('both workers ready', async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)));
      return answers.every(Boolean);
    }, 45_000, 100);
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
