/**
 * The servers under test, each started fresh as its own process tree on 127.0.0.1 and stopped
 * after its case: ssehub (embedded bus; NATS; NATS or JetStream with several workers) and nginx +
 * nchan (its own memory store, or Redis, its multi-server shape). The servers a target leans on
 * (nats-server, redis-server) are its peers: their CPU and memory count as the target's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, freePort } from '../../test/helpers/net.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { OPEN_ON_PURPOSE } from '../../test/helpers/open-mode.js';
import { httpPublisher, natsPublisher, type Publisher } from './publisher.js';
import type { ReadyMarker } from './protocol.js';

export const TargetKind = {
  /** ssehub, one process, embedded bus, HTTP publish. */
  Ssehub: 'ssehub',
  /** ssehub, one process, core NATS bus; events published straight to NATS. */
  SsehubNats: 'ssehub-nats',
  /** ssehub with HUB_WORKERS=2 (one per core) on NATS; events published straight to NATS. */
  SsehubCluster: 'ssehub-2w',
  /** ssehub, one process, JetStream; events published straight into the stream (core NATS publish, no ack). */
  SsehubJetStream: 'ssehub-jetstream',
  /** ssehub with HUB_WORKERS=2 on JetStream, the deployed shape; published as `ssehub-jetstream`. */
  SsehubJetStreamCluster: 'ssehub-jetstream-2w',
  /**
   * Another build (SSEHUB_BASE_DIST: a dist/ directory compiled from another checkout) run in the
   * shape SSEHUB_BASE_KIND names (default `ssehub`), for before/after figures from the same run.
   */
  SsehubBase: 'ssehub-base',
  /** nginx + nchan, 2 workers, HTTP publish. */
  Nchan: 'nchan',
  /** nginx + nchan, 2 workers, Redis storage (`nchan_redis_pass`): nchan's multi-server shape. */
  NchanRedis: 'nchan-redis',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** The kinds SSEHUB_BASE_KIND may name: every ssehub shape but the base itself. */
type SsehubShape = Exclude<TargetKind, typeof TargetKind.SsehubBase | typeof TargetKind.Nchan | typeof TargetKind.NchanRedis>;

export interface Target {
  readonly kind: TargetKind;
  readonly port: number;
  /** Root of the server's process tree (what /proc figures are read from). */
  readonly pid: number;
  /** Servers outside that tree the target runs on (nats-server, redis-server): counted with it. */
  readonly peerPids: readonly number[];
  readonly subscribePath: string;
  /** The HTTP publish path for a topic, for cases that publish over HTTP whatever the target's own publisher. */
  readonly httpPublishPath: (topic: string) => string;
  readonly readyMarker: ReadyMarker;
  publisher(): Promise<Publisher>;
  stop(): Promise<void>;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NCHAN_MODULE = '/usr/share/nginx/modules/ngx_nchan_module.so';
export const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Settings both servers get, so they are configured alike: a slow reader is measured as latency
 * rather than cut off (nchan has no slow-consumer limit), and history covers a reconnect storm.
 * Both are open (no keys), as nchan is here.
 */
export const BENCH_ENV = {
  ...OPEN_ON_PURPOSE,
  HUB_MAX_BUFFERED_BYTES: String(32 * 1024 * 1024),
  HUB_REPLAY_MAX_EVENTS: '100000',
  HUB_MAX_CONNECTIONS: '100000',
  LOG_LEVEL: 'warn',
} as const;
const NCHAN_BUFFER_PER_CHANNEL = 1000; // x 100 topics = BENCH_ENV's replay bound

export async function startTarget(kind: TargetKind, extraEnv: Record<string, string> = {}): Promise<Target> {
  if (kind === TargetKind.Nchan) return startNchan();
  if (kind === TargetKind.NchanRedis) return startNchanRedis();
  if (kind !== TargetKind.SsehubBase) return startSsehub(kind, kind, join(ROOT, 'dist'), extraEnv);
  const dist = process.env.SSEHUB_BASE_DIST;
  if (!dist) throw new Error('target ssehub-base needs SSEHUB_BASE_DIST=<a dist/ directory built from another checkout>');
  return startSsehub(kind, baseShape(), dist, extraEnv);
}

/** The shape the base build runs in: SSEHUB_BASE_KIND, e.g. `ssehub-jetstream-2w`; `ssehub` by default. */
function baseShape(): SsehubShape {
  const shape = process.env.SSEHUB_BASE_KIND ?? TargetKind.Ssehub;
  const shapes: readonly string[] = Object.values(TargetKind).filter((k) => k !== TargetKind.SsehubBase && !k.startsWith('nchan'));
  if (!shapes.includes(shape)) throw new Error(`SSEHUB_BASE_KIND must be one of ${shapes.join(', ')}, got "${shape}"`);
  return shape as SsehubShape;
}

/** The environment each ssehub shape adds to BENCH_ENV (NATS_URL comes from the nats-server it starts). */
const SHAPE_ENV: Readonly<Record<SsehubShape, { readonly nats?: 'core' | 'jetstream'; readonly env: Readonly<Record<string, string>> }>> = {
  [TargetKind.Ssehub]: { env: {} },
  [TargetKind.SsehubNats]: { nats: 'core', env: {} },
  [TargetKind.SsehubCluster]: { nats: 'core', env: { HUB_WORKERS: '2' } },
  [TargetKind.SsehubJetStream]: { nats: 'jetstream', env: { HUB_JETSTREAM: '1' } },
  [TargetKind.SsehubJetStreamCluster]: { nats: 'jetstream', env: { HUB_JETSTREAM: '1', HUB_WORKERS: '2' } },
};

/** ssehub from `dist`, run in `shape`, reported as `kind`. */
async function startSsehub(kind: TargetKind, shape: SsehubShape, dist: string, extraEnv: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const { nats: natsKind, env: shapeEnv } = SHAPE_ENV[shape];
  const nats: NatsServer | undefined = natsKind ? await startNatsServer({ jetstream: natsKind === 'jetstream' }) : undefined;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...BENCH_ENV, ...shapeEnv, HOST: '127.0.0.1', PORT: String(port), ...extraEnv };
  if (nats) env.NATS_URL = nats.url;
  // HUB_NODE_FLAGS: extra node flags for the hub, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const child = spawn(process.execPath, [...(process.env.HUB_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(dist, 'main.js')], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, child, 'ssehub');
  } catch (err) {
    child.kill('SIGKILL');
    await nats?.[Symbol.asyncDispose]();
    throw err;
  }
  const natsPid = nats?.pid();
  const target = ssehubTarget(kind, port, child.pid!, nats?.url, 'sse', natsPid === undefined ? [] : [natsPid]);
  return {
    ...target,
    async stop() {
      await stopProcess(child, 'SIGTERM');
      await nats?.[Symbol.asyncDispose]();
    },
  };
}

/** An ssehub already listening on `port` (a process or, in the CI smoke test, a hub in this process). */
export function ssehubTarget(kind: TargetKind, port: number, pid: number, natsUrl: string | undefined, subjectPrefix = 'sse', peerPids: readonly number[] = []): Target {
  return {
    kind,
    port,
    pid,
    peerPids,
    subscribePath: '/events?topic={topic}',
    httpPublishPath: ssehubPublishPath,
    readyMarker: 'hub.open',
    publisher: () => (natsUrl ? natsPublisher(natsUrl, subjectPrefix) : httpPublisher(port, ssehubPublishPath)),
    stop: async () => {},
  };
}

const ssehubPublishPath = (topic: string): string => `/publish?topic=${encodeURIComponent(topic)}`;
const nchanPublishPath = (topic: string): string => `/pub?topic=${encodeURIComponent(topic)}`;

async function startNchan(): Promise<Target> {
  return startNginxNchan(TargetKind.Nchan, undefined);
}

/** nchan's multi-server shape: messages and channels kept in a Redis of its own, on a free port. */
async function startNchanRedis(): Promise<Target> {
  const redis = await startRedis();
  try {
    return await startNginxNchan(TargetKind.NchanRedis, redis);
  } catch (err) {
    await redis.stop();
    throw err;
  }
}

interface Redis {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startRedis(): Promise<Redis> {
  const port = await freePort();
  // No persistence (nchan's messages are short-lived here, and ssehub's JetStream stream is the
  // only thing that touches disk in the comparison), loopback only.
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitFor(() => canConnect(port), child, 'redis-server');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { port, pid: child.pid!, stop: () => stopProcess(child, 'SIGTERM') };
}

async function startNginxNchan(kind: TargetKind, redis: Redis | undefined): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-nchan-'));
  chmodSync(dir, 0o777); // workers run as nobody and keep request bodies there
  const conf = join(dir, 'nginx.conf');
  const redisPass = redis ? ' nchan_redis_pass nchan_redis;' : '';
  writeFileSync(
    conf,
    `load_module ${NCHAN_MODULE};
worker_processes 2;
worker_rlimit_nofile 20000;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 19000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 64k;
  keepalive_requests 1000000;
  nchan_shared_memory_size 256M;
  nchan_message_buffer_length ${NCHAN_BUFFER_PER_CHANNEL};
  nchan_message_timeout 10m;
${redis ? `  upstream nchan_redis { nchan_redis_server redis://127.0.0.1:${redis.port}; }\n` : ''}  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /sub { nchan_subscriber eventsource; nchan_channel_id $arg_topic;${redisPass} }
    location = /pub { nchan_publisher; nchan_channel_id $arg_topic;${redisPass} }
  }
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    // With Redis, a publish answers once nchan has reached Redis: a 2xx, not just any answer.
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/pub?topic=warmup`, { method: 'POST', body: 'warmup' }).catch(() => undefined))?.ok === true, child, 'nginx');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${safeRead(join(dir, 'error.log'))}`);
  }
  return {
    kind,
    port,
    pid: child.pid!,
    peerPids: redis ? [redis.pid] : [],
    subscribePath: '/sub?topic={topic}',
    httpPublishPath: nchanPublishPath,
    readyMarker: 'comment',
    publisher: () => httpPublisher(port, nchanPublishPath),
    async stop() {
      await stopProcess(child, 'SIGQUIT'); // nginx: graceful stop
      await redis?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Two workers setting up JetStream on a machine shared with other jobs have been seen to need more than 15 s.
const START_TIMEOUT_MS = 60_000;

async function waitFor(probe: () => Promise<boolean>, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await probe())) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
