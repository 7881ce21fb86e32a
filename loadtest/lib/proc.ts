/**
 * What the server under test costs, read from /proc: resident memory and CPU time of its whole
 * process tree (ssehub with its cluster workers, nginx master with its workers). Linux only.
 */
import { readFileSync, readdirSync } from 'node:fs';

// USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on Linux.
const TICK_MS = 10;

/** `pid` and every descendant still running. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

interface Stat {
  readonly ppid: number;
  /** utime + stime, ms. */
  readonly cpuMs: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

function readRssKiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the tree, KiB. */
export function treeRssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readRssKiB(pid);
  return total;
}

/** CPU time (user + system) the tree has used so far, ms (10 ms resolution). */
export function treeCpuMs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.cpuMs ?? 0;
  return total;
}
