/**
 * A network namespace of its own for a server (a nats-server), reached from the test's namespace over
 * veth pairs, one per path, each its own /30 subnet. A path can be cut so that its packets vanish:
 * a `pfifo` queue of length 0 on both ends of its veth drops every packet (this kernel has no netem
 * and no nftables; a zero-length queue is plain tail drop), so nothing is refused and no connection
 * closes; healing removes the queues. Only the veths made here and their own subnets are touched.
 * Every name carries a per-run id; dispose() deletes the namespace, which takes its veths with it.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsPath {
  /** The server's address on this path, as seen from the test's namespace. */
  readonly remote: string;
  /** Drop every packet both ways. */
  cut(): void;
  heal(): void;
}

export interface Netns extends AsyncDisposable {
  readonly name: string;
  readonly paths: readonly NetnsPath[];
  /** A process inside the namespace. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const tc = (...args: string[]) => execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function createNetns(pathCount: number): Netns {
  const id = randomBytes(3).toString('hex');
  const name = `ssehub-${id}`;
  // 10.<200+i>.<random>.0/30: a subnet per path, unlikely to meet anything the host routes.
  const third = 1 + (parseInt(id.slice(0, 2), 16) % 250);
  const made: string[] = [];
  const cleanup = () => {
    try {
      ip('netns', 'del', name);
    } catch {
      // not made, or gone already
    }
    for (const link of made) {
      try {
        ip('link', 'del', link);
      } catch {
        // went with the namespace
      }
    }
  };
  try {
    ip('netns', 'add', name);
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    const paths: NetnsPath[] = [];
    for (let i = 0; i < pathCount; i++) {
      const outer = `sh${id}o${i}`;
      const inner = `sh${id}i${i}`;
      const net = `10.${200 + i}.${third}`;
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      made.push(outer);
      ip('link', 'set', inner, 'netns', name);
      ip('addr', 'add', `${net}.1/30`, 'dev', outer);
      ip('link', 'set', outer, 'up');
      ip('netns', 'exec', name, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', inner);
      ip('netns', 'exec', name, 'ip', 'link', 'set', inner, 'up');
      paths.push({
        remote: `${net}.2`,
        cut() {
          tc('qdisc', 'add', 'dev', outer, 'root', 'pfifo', 'limit', '0');
          execFileSync('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', inner, 'root', 'pfifo', 'limit', '0']);
        },
        heal() {
          tc('qdisc', 'del', 'dev', outer, 'root');
          execFileSync('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'del', 'dev', inner, 'root']);
        },
      });
    }
    return {
      name,
      paths,
      spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
      [Symbol.asyncDispose]: async () => cleanup(),
    };
  } catch (err) {
    cleanup();
    throw new Error(`could not make network namespace ${name} (needs root, ip and tc): ${String(err)}`);
  }
}
