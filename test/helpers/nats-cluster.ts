/**
 * Three real nats-server processes clustered on loopback, JetStream on each (distinct server names
 * and store directories, cluster routes to one another), for streams with 3 replicas. Each node can be
 * killed (-9 or TERM), restarted on the same ports and store, or frozen (SIGSTOP) and thawed. Ready
 * when JetStream answers through every node, that is, once the cluster has a meta leader.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { canConnect, freePort } from './net.js';
import { assertNatsServerInstalled, NATS_SERVER_BIN } from './nats-server.js';
import { sleep, waitFor } from './wait.js';

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  pid(): number | undefined;
  /** SIGKILL (or SIGTERM) and wait for the exit. */
  stop(hard?: boolean): Promise<void>;
  /** Start again, same ports, same store: it rejoins the cluster and catches its streams up. */
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
}

export interface NatsCluster extends AsyncDisposable {
  readonly nodes: readonly ClusterNode[];
  /** Every node's URL, comma-separated, as NATS_URL takes them. */
  readonly urls: string;
  node(name: string): ClusterNode;
  /** The node a process (a hub) holds its NATS connection to, from the kernel's socket tables. */
  nodeOf(pid: number): ClusterNode | undefined;
}

const CLUSTER = 'ssehub-test';

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  assertNatsServerInstalled();
  const specs: { name: string; port: number; clusterPort: number; store: string }[] = [];
  for (let i = 0; i < size; i++) specs.push({ name: `n${i + 1}`, port: await freePort(), clusterPort: await freePort(), store: mkdtempSync(join(tmpdir(), `ssehub-cluster-n${i + 1}-`)) });
  const routes = specs.map((s) => `nats://127.0.0.1:${s.clusterPort}`).join(',');

  const nodes: ClusterNode[] = specs.map((spec) => {
    let child: ChildProcess | undefined;
    let output = '';
    const launch = async (): Promise<void> => {
      const args = ['-a', '127.0.0.1', '-p', String(spec.port), '-js', '-sd', spec.store, '--name', spec.name, '--cluster_name', CLUSTER, '--cluster', `nats://127.0.0.1:${spec.clusterPort}`, '--routes', routes];
      const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      output = '';
      proc.stderr?.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-8192);
      });
      child = proc;
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(spec.port))) {
        if (proc.exitCode !== null) throw new Error(`nats-server ${spec.name} exited with ${proc.exitCode}: ${output}`);
        if (Date.now() > deadline) throw new Error(`nats-server ${spec.name} did not listen on ${spec.port} within 10 s: ${output}`);
        await sleep(25);
      }
    };
    return {
      name: spec.name,
      url: `nats://127.0.0.1:${spec.port}`,
      port: spec.port,
      pid: () => child?.pid,
      async stop(hard = true) {
        const proc = child;
        child = undefined;
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGCONT');
        proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
        await exited;
      },
      restart: launch,
      freeze: () => void child?.kill('SIGSTOP'),
      thaw: () => void child?.kill('SIGCONT'),
    };
  });

  const dispose = async () => {
    for (const node of nodes) await node.stop(true);
    for (const spec of specs) rmSync(spec.store, { recursive: true, force: true });
  };
  try {
    for (const node of nodes) await node.restart();
    await waitForJetStream(nodes);
  } catch (err) {
    await dispose();
    throw err;
  }

  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    node: (name) => {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no cluster node named ${name}`);
      return found;
    },
    nodeOf: (pid) => {
      const ports = connectedPorts(pid);
      return nodes.find((n) => ports.has(n.port));
    },
    [Symbol.asyncDispose]: dispose,
  };
}

/** Until every node answers a JetStream API request: the cluster has elected its meta leader. */
export async function waitForJetStream(nodes: readonly Pick<ClusterNode, 'url'>[], timeoutMs = 30_000): Promise<void> {
  for (const node of nodes) {
    const nc = await connect({ servers: node.url, noRandomize: true });
    try {
      await waitFor(`JetStream to answer through ${node.url}`, async () => {
        const jsm = await nc.jetstreamManager({ timeout: 1000 }).catch(() => undefined);
        return jsm !== undefined && (await jsm.getAccountInfo().then(() => true, () => false));
      }, timeoutMs, 200);
    } finally {
      await nc.close();
    }
  }
}

/** Remote ports of a process's TCP connections: its socket inodes (/proc/<pid>/fd) looked up in /proc/net/tcp. */
function connectedPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // st 01: ESTABLISHED
      if (fields.length < 10 || fields[3] !== '01' || !inodes.has(fields[9]!)) continue;
      ports.add(parseInt(fields[2]!.slice(fields[2]!.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}
