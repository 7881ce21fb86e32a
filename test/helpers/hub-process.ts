/**
 * A hub in its own process (`node --import tsx src/main.ts`), ready when returned, for tests that
 * kill replicas (SIGKILL is real only for a real process) or measure the hub's memory alone
 * (VmRSS from /proc). The port comes from the "ssehub listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OPEN_ON_PURPOSE } from './open-mode.js';
import { waitFor, withTimeout } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HubProcess extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last log lines (stdout), oldest first, at most LOG_LINES_KEPT. */
  readonly logs: readonly string[];
  /** Resolves with the first log line, from now on or already kept, that `matches`. */
  waitForLog(what: string, matches: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The admin listener's URL, when HUB_ADMIN_PORT was set (0 included: its port comes from its log line). */
  readonly adminUrl: string | undefined;
  /** Resident set size of the hub process, in bytes. */
  rss(): number;
  /** SIGTERM (graceful) or SIGKILL; resolves when the process has exited, with its exit code. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

/**
 * The hub's process as `npm start` runs it (src/main.ts, through tsx), on loopback, logging at info
 * level, with stdout and stderr piped to the caller, who must keep reading stdout (or close it).
 */
export function spawnHub(env: Record<string, string>, port = 0): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...OPEN_ON_PURPOSE, ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// Enough for what a test looks for after the start; bounded so a long test does not grow it.
const LOG_LINES_KEPT = 2000;

/** `startTimeoutMs` bounds the start (several workers each compiling through tsx take longer on a loaded machine). */
export async function startHubProcess(env: Record<string, string>, port = 0, startTimeoutMs = 20_000): Promise<HubProcess> {
  // info level: the port comes from the "ssehub listening" line.
  const child = spawnHub(env, port);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const logs: string[] = [];
  let adminPort: number | undefined;
  lines.on('line', (line) => {
    logs.push(line);
    if (line.includes('"admin listener on"')) adminPort = (JSON.parse(line) as { port: number }).port;
    if (logs.length > LOG_LINES_KEPT) logs.shift();
  });
  const waitForLog = (what: string, matches: (line: string) => boolean, timeoutMs = 15_000): Promise<string> =>
    waitFor(`the hub to log ${what}`, () => logs.find(matches), timeoutMs, 20);

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit');
    child.kill(signal);
    try {
      const [code] = (await withTimeout(`the hub to exit on ${signal}`, exited, 15_000)) as [number | null];
      return code;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  };

  try {
    const actual = await withTimeout(
      'the hub process to listen',
      new Promise<number>((resolve, reject) => {
        // 'close', not 'exit': by then stderr has been read to its end (a bad configuration's one line).
        child.once('close', (code) => reject(new Error(`hub process exited (${code}) before listening: ${stderr}`)));
        // Keep reading afterwards too: a full stdout pipe would stall the hub.
        lines.on('line', (line) => {
          if (line.includes('"ssehub listening"')) resolve((JSON.parse(line) as { port: number }).port);
        });
      }),
      startTimeoutMs,
    );
    const url = `http://127.0.0.1:${actual}`;
    await waitFor('the hub process to be ready', async () => (await fetch(`${url}/readyz`)).status === 200, startTimeoutMs, 50);
    const pid = child.pid!;
    if (env.HUB_ADMIN_PORT !== undefined) await waitFor('the admin listener', () => adminPort !== undefined, 20_000);
    return {
      port: actual,
      url,
      pid,
      child,
      logs,
      waitForLog,
      adminUrl: adminPort === undefined ? undefined : `http://127.0.0.1:${adminPort}`,
      rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024,
      stop,
      [Symbol.asyncDispose]: async () => void (await stop()),
    };
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
}
