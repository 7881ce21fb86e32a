/**
 * A hub in its own process (src/main.ts under tsx), ready when returned, for tests that kill
 * replicas: SIGKILL is real only for a real process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor, withTimeout } from './wait.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface HubProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM (graceful) or SIGKILL; resolves when the process has exited, with its exit code. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

export async function startHubProcess(env: Record<string, string>, port = 0): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      if (!line.includes('ssehub listening')) return;
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`hub exited with ${code} before listening: ${stderr}`)));
  });
  const actual = await withTimeout('the hub process to listen', listening, 20_000);
  lines.on('line', () => {}); // keep draining stdout so the child never blocks on a full pipe
  const url = `http://127.0.0.1:${actual}`;
  await waitFor('the hub process to be ready', async () => (await fetch(`${url}/readyz`)).status === 200, 20_000, 50);
  return {
    port: actual,
    url,
    child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await withTimeout(`the hub to exit on ${signal}`, exited, 20_000)) as [number | null];
      return code;
    },
  };
}
