/**
 * Starts a real nats-server (Debian package `nats-server`) on a free port and stops it.
 * There is no fallback: a missing binary fails the test loudly (scripts/test.sh installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from './net.js';
import { sleep } from './wait.js';

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? 'nats-server';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** JetStream storage directory, kept across restart(). */
  readonly storeDir: string;
  /** The running server's process id (a benchmark counts its CPU), undefined while stopped. */
  pid(): number | undefined;
  /** Stop (SIGTERM, or SIGKILL with `hard`) and wait for the process to exit. */
  stop(hard?: boolean): Promise<void>;
  /** Start again on the same port and store (after stop()). */
  restart(): Promise<void>;
  /**
   * SIGSTOP: the server freezes with its sockets open, so clients see silence, not a closed
   * connection (a GC pause, a stalled VM, packets dropped). thaw() sends SIGCONT.
   */
  freeze(): void;
  thaw(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export function assertNatsServerInstalled(): void {
  const probe = spawnSync(NATS_SERVER_BIN, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`nats-server is not installed (${NATS_SERVER_BIN}): run "npm test", which installs it with apt, or "apt-get install nats-server"`);
  }
}

export interface NatsServerOptions {
  readonly jetstream?: boolean;
  readonly port?: number;
  /** Require this user and password of every client (`--user`/`--pass`). */
  readonly credentials?: { readonly user: string; readonly pass: string };
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  assertNatsServerInstalled();
  const port = options.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'ssehub-nats-'));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = ['-a', '127.0.0.1', '-p', String(port)];
    if (options.jetstream) args.push('-js', '-sd', storeDir);
    if (options.credentials) args.push('--user', options.credentials.user, '--pass', options.credentials.pass);
    let output = '';
    const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => {
      if (output.length < 8192) output += chunk.toString();
    });
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within 10 s: ${output}`);
      await sleep(25);
    }
  };

  const stop = async (hard = false): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // A frozen server would hold SIGTERM until thawed.
    proc.kill('SIGCONT');
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    pid: () => (child?.exitCode === null ? child.pid : undefined),
    stop,
    restart: launch,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
