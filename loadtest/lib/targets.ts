/**
 * The servers under test, each started fresh as its own process tree on 127.0.0.1 and stopped
 * after its case: ssehub (embedded bus; NATS; NATS with several workers) and nginx + nchan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/net.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { OPEN_ON_PURPOSE } from '../../test/helpers/open-mode.js';
import { httpPublisher, natsPublisher, type Publisher } from './publisher.js';
import type { ReadyMarker } from './protocol.js';

export const TargetKind = {
  /** ssehub, one process, embedded bus, HTTP publish. */
  Ssehub: 'ssehub',
  /** ssehub, one process, core NATS bus; events published straight to NATS. */
  SsehubNats: 'ssehub-nats',
  /** ssehub, one process, JetStream bus (nats-server -js), HTTP publish. */
  SsehubJetStream: 'ssehub-jetstream',
  /** ssehub with HUB_WORKERS=2 (one per core) on NATS; events published straight to NATS. */
  SsehubCluster: 'ssehub-2w',
  /**
   * Like `ssehub`, but another build (SSEHUB_BASE_DIST: a dist/ directory compiled from another
   * checkout), for before/after figures from the same run.
   */
  SsehubBase: 'ssehub-base',
  /** `ssehub-jetstream` on the SSEHUB_BASE_DIST build. */
  SsehubJetStreamBase: 'ssehub-jetstream-base',
  /** nginx + nchan, 2 workers, HTTP publish. */
  Nchan: 'nchan',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

export interface Target {
  readonly kind: TargetKind;
  readonly port: number;
  /** Root of the server's process tree (what /proc figures are read from). */
  readonly pid: number;
  /** Processes the server needs beside its own tree (nats-server), counted in its CPU figures. */
  readonly helperPids: readonly number[];
  readonly subscribePath: string;
  /** The HTTP publish path for a topic, for cases that publish over HTTP whatever the target's own publisher. */
  readonly httpPublishPath: (topic: string) => string;
  readonly readyMarker: ReadyMarker;
  publisher(): Promise<Publisher>;
  stop(): Promise<void>;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NCHAN_MODULE = '/usr/share/nginx/modules/ngx_nchan_module.so';

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
  return kind === TargetKind.Nchan ? startNchan() : startSsehub(kind, extraEnv);
}

async function startSsehub(kind: TargetKind, extraEnv: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const jetstream = kind === TargetKind.SsehubJetStream || kind === TargetKind.SsehubJetStreamBase;
  const nats: NatsServer | undefined = kind === TargetKind.Ssehub || kind === TargetKind.SsehubBase ? undefined : await startNatsServer({ jetstream });
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...BENCH_ENV, HOST: '127.0.0.1', PORT: String(port), ...extraEnv };
  if (nats) env.NATS_URL = nats.url;
  if (kind === TargetKind.SsehubCluster) env.HUB_WORKERS = '2';
  // JetStream numbers events itself: HTTP publish is the way in, as it is for the embedded bus.
  if (jetstream) env.HUB_JETSTREAM = '1';
  let dist = join(ROOT, 'dist');
  if (kind === TargetKind.SsehubBase || kind === TargetKind.SsehubJetStreamBase) {
    if (!process.env.SSEHUB_BASE_DIST) throw new Error('target ssehub-base needs SSEHUB_BASE_DIST=<a dist/ directory built from another checkout>');
    dist = process.env.SSEHUB_BASE_DIST;
  }
  // HUB_NODE_FLAGS: extra node flags for the hub, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const child = spawn(process.execPath, [...(process.env.HUB_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(dist, 'main.js')], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, child, 'ssehub');
  } catch (err) {
    child.kill('SIGKILL');
    await nats?.stop();
    throw err;
  }
  const target = ssehubTarget(kind, port, child.pid!, jetstream ? undefined : nats?.url);
  return {
    ...target,
    helperPids: nats?.pid === undefined ? [] : [nats.pid],
    async stop() {
      await stopProcess(child, 'SIGTERM');
      await nats?.stop();
    },
  };
}

/** An ssehub already listening on `port` (a process or, in the CI smoke test, a hub in this process). */
export function ssehubTarget(kind: TargetKind, port: number, pid: number, natsUrl: string | undefined, subjectPrefix = 'sse'): Target {
  return {
    kind,
    port,
    pid,
    helperPids: [],
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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-nchan-'));
  chmodSync(dir, 0o777); // workers run as nobody and keep request bodies there
  const conf = join(dir, 'nginx.conf');
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
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /sub { nchan_subscriber eventsource; nchan_channel_id $arg_topic; }
    location = /pub { nchan_publisher; nchan_channel_id $arg_topic; }
  }
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/pub?topic=warmup`).catch(() => undefined)) !== undefined, child, 'nginx');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${safeRead(join(dir, 'error.log'))}`);
  }
  return {
    kind: TargetKind.Nchan,
    port,
    pid: child.pid!,
    helperPids: [],
    subscribePath: '/sub?topic={topic}',
    httpPublishPath: nchanPublishPath,
    readyMarker: 'comment',
    publisher: () => httpPublisher(port, nchanPublishPath),
    async stop() {
      await stopProcess(child, 'SIGQUIT'); // nginx: graceful stop
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitFor(probe: () => Promise<boolean>, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await probe())) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within 15 s`);
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
