/**
 * The cluster primary as a supervisor (HUB_WORKERS=2, the real entry point, a real nats-server): a
 * worker killed with SIGKILL is replaced and the port keeps serving; a worker that keeps dying makes
 * the primary give up (exit 1, a fatal line) instead of restarting it forever.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHub } from '../helpers/hub-process.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

interface Line {
  readonly msg?: string;
  readonly port?: number;
  readonly pid?: number;
}

/** The primary's process, its log lines as they come, and its workers' pids. */
class Pod {
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.lines.push(JSON.parse(line) as Line);
    });
    child.stderr!.resume();
  }

  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }

  /** Waits for the `n`-th "ssehub listening" line (one per worker start) and answers the port. */
  async listening(n: number): Promise<number> {
    // Generous: each worker compiles the hub on start, which takes tens of seconds on a loaded machine.
    await waitFor(`worker start #${n}`, () => this.count('ssehub listening') >= n, 60_000, 20);
    return this.lines.find((l) => l.msg === 'ssehub listening')!.port!;
  }

  /** The primary's live children: its workers (not their own helpers, not a dead one not yet reaped). */
  workers(): number[] {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
      const stat = readStat(pid);
      return stat !== undefined && stat.ppid === this.child.pid && stat.state !== 'Z';
    });
  }
}

function readStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields resume after the last ')'.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined; // exited meanwhile
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the cluster primary supervising its workers [lifecycle] [nats]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('replaces a killed worker, and gives up (exit 1) when workers die a sixth time within a minute', { timeout: 120_000 }, async () => {
    const pod = new Pod(spawnHub({ NATS_URL: nats.url, HUB_WORKERS: '2' }));
    try {
      const port = await pod.listening(2);
      await waitFor('two workers', () => pod.workers().length === 2, 20_000, 50);
      const [victim, survivor] = pod.workers() as [number, number];
      process.kill(victim, 'SIGKILL');
      await pod.listening(3);
      expect(pod.count('worker died; starting another')).toBe(1);
      expect(pod.lines.find((l) => l.msg === 'worker died; starting another')?.pid).toBe(victim);
      await waitFor('the replacement', () => pod.workers().length === 2 && !pod.workers().includes(victim), 20_000, 50);
      // The pod still serves on its port (whichever worker answers).
      for (let i = 0; i < 4; i++) expect((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);

      // Four more deaths are replaced (five within the window); the sixth is not. Each replacement
      // is killed as soon as it is forked: its death counts the same, and no start is waited out.
      const seen = new Set([victim, survivor]);
      for (let death = 2; death <= 6; death++) {
        const next = await waitFor(`the replacement worker after death #${death - 1}`, () => pod.workers().find((pid) => !seen.has(pid)), 20_000, 5);
        seen.add(next);
        process.kill(next, 'SIGKILL');
        if (death < 6) await waitFor(`death #${death} to be replaced`, () => pod.count('worker died; starting another') === death, 20_000, 5);
      }
      expect(await withTimeout('the primary to give up', pod.exited, 20_000)).toBe(1);
      expect(pod.lines.some((l) => l.msg?.endsWith('giving up'))).toBe(true);
      expect(pod.count('worker died; starting another')).toBe(5);
      // Its remaining worker does not outlive it.
      await waitFor('the surviving worker to exit with the primary', () => !alive(survivor), 20_000, 50);
    } finally {
      for (const pid of pod.workers()) process.kill(pid, 'SIGKILL');
      pod.child.kill('SIGKILL');
    }
  });
});
