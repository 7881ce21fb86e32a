/**
 * Starts the hub as its own process (`node --import tsx src/main.ts`) on port 0, so a test can
 * measure the hub's memory alone (VmRSS from /proc). Reads the port from the "ssehub listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HubProcess extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
  /** Resident set size of the hub process, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export async function startHubProcess(env: Record<string, string>): Promise<HubProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    // info level: the port comes from the "ssehub listening" line.
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await withTimeout('the hub process to exit', exited, 15_000).catch(() => child.kill('SIGKILL'));
  };
  try {
    const port = await withTimeout(
      'the hub process to listen',
      new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`hub process exited (${code}): ${stderr}`)));
        // Keep reading afterwards too: a full stdout pipe would stall the hub.
        lines.on('line', (line) => {
          if (line.includes('"ssehub listening"')) resolve((JSON.parse(line) as { port: number }).port);
        });
      }),
      20_000,
    );
    const pid = child.pid!;
    return {
      url: `http://127.0.0.1:${port}`,
      pid,
      rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
