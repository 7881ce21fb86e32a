/**
 * Runs one case against one running target: spreads the subscribers over child processes, waits
 * until every connection is live, publishes, waits for the deliveries to stop, and measures the
 * server's memory and CPU from /proc throughout. Bounded: every phase has a deadline.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseSpec } from './cases.js';
import { Histogram } from './histogram.js';
import { processTree, treeCpuMs, treeRssKiB } from './proc.js';
import { httpPublisher } from './publisher.js';
import { now, type FromSubscriber, type SubscriberStats, type ToSubscriber } from './protocol.js';
import type { Target } from './targets.js';

const SUBSCRIBER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'subscriber.ts');
const CONNECT_TIMEOUT_MS = 60_000;
/** Delivery is over when nothing arrived for this long after the last publish. */
const QUIET_MS = 2_000;
const DELIVERY_TIMEOUT_MS = 60_000;
/** Connections one subscriber process holds at most (the fd limit is 20,000 per process). */
const MAX_CONNECTIONS_PER_PROCESS = 10_000;

export interface CaseResult {
  readonly case: string;
  readonly target: string;
  readonly subscribers: number;
  readonly topics: number;
  readonly connectMs: number;
  readonly connectFailed: number;
  readonly published: number;
  readonly publishErrors: number;
  /** Deliveries that should have happened: published events x subscribers of their topic. */
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly resets: number;
  readonly broken: number;
  readonly deliveredPerSec: number;
  /** Events acknowledged per second of publishing (first send to last answer). */
  readonly publishedPerSec: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly rssKiB: { readonly before: number; readonly afterConnect: number; readonly peak: number };
  readonly kibPerConnection: number;
  /** CPU of the server's tree and its peers (nats-server, redis-server), ms. */
  readonly serverCpuMs: number;
  /** The peers' part of serverCpuMs. */
  readonly peerCpuMs: number;
  readonly cpuUsPerDelivered: number;
  /** Server CPU (nats-server and redis-server included) per published event. */
  readonly cpuUsPerPublished: number;
  /** Reconnect storm only: from the drop until the last client had caught up with live events. */
  readonly catchUpMs: number | undefined;
  readonly notCaughtUp: number | undefined;
  readonly errors: readonly string[];
}

class SubscriberProcess {
  delivered = 0;
  private readonly waiters = new Map<string, (msg: FromSubscriber) => void>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (msg: FromSubscriber) => {
      if (msg.type === 'progress') this.delivered = msg.delivered;
      else this.waiters.get(msg.type)?.(msg);
    });
  }

  send(msg: ToSubscriber): void {
    this.child.send(msg);
  }

  next<T extends FromSubscriber['type']>(type: T, timeoutMs: number): Promise<Extract<FromSubscriber, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber process: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code: number | null): void => reject(new Error(`subscriber process exited with ${code} before '${type}'`));
      this.child.once('exit', onExit);
      this.waiters.set(type, (msg) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        this.waiters.delete(type);
        resolve(msg as Extract<FromSubscriber, { type: T }>);
      });
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runCase(target: Target, spec: CaseSpec): Promise<CaseResult> {
  const topics = Array.from({ length: spec.topics }, (_, i) => `t${i}`);
  const errors: string[] = [];
  // The peers count as the server: a hub on JetStream does part of its work in nats-server.
  const pids = [...processTree(target.pid), ...target.peerPids];
  const rssBefore = treeRssKiB(pids);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, treeRssKiB(pids))), 100);

  const processCount = Math.max(spec.subscriberProcesses, Math.ceil(spec.subscribers / MAX_CONNECTIONS_PER_PROCESS));
  const procs: SubscriberProcess[] = [];
  const starting: Promise<unknown>[] = [];
  const perProcess = Math.ceil(spec.subscribers / processCount);
  for (let p = 0, first = 0; first < spec.subscribers; p++, first += perProcess) {
    // A new process needs a moment to load: wait for it, so connect time is the server's.
    const child = fork(SUBSCRIBER_SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const proc = new SubscriberProcess(child);
    const started = proc.next('started', 30_000);
    proc.send({
      type: 'plan',
      plan: {
        port: target.port,
        pathTemplate: target.subscribePath,
        topics,
        first,
        count: Math.min(perProcess, spec.subscribers - first),
        readyMarker: target.readyMarker,
        connectConcurrency: 200,
      },
    });
    procs.push(proc);
    starting.push(started);
  }
  const publisher =
    spec.publish.kind === 'none' ? undefined : spec.httpPublish ? await httpPublisher(target.port, target.httpPublishPath, spec.httpPublish.sockets, spec.httpPublish.window) : await target.publisher();
  try {
    await Promise.all(starting);
    // --- connect -------------------------------------------------------------------------------
    const connectStart = now();
    const ready = procs.map((proc) => proc.next('ready', CONNECT_TIMEOUT_MS));
    for (const proc of procs) proc.send({ type: 'connect' });
    let connectFailed = 0;
    for (const r of await Promise.all(ready)) {
      connectFailed += r.failed;
      if (r.firstError) errors.push(`connect: ${r.firstError}`);
    }
    const connectMs = now() - connectStart;
    await sleep(300); // let the server settle (GC, buffers) before reading its memory
    const rssAfterConnect = treeRssKiB(pids);
    rssPeak = Math.max(rssPeak, rssAfterConnect);

    // --- publish -------------------------------------------------------------------------------
    const published = new Array<number>(spec.topics).fill(0);
    const cpuStart = treeCpuMs(pids);
    const peerCpuStart = treeCpuMs(target.peerPids);
    const publishStart = now();
    let stormAt = 0;
    let publishMs = 0;
    let reconnected: Promise<Array<Extract<FromSubscriber, { type: 'reconnected' }>>> | undefined;
    if (publisher && spec.publish.kind !== 'none') {
      const schedule = spec.publish;
      const total = schedule.kind === 'burst' ? schedule.perTopic * spec.topics : Math.round(schedule.perSecond * schedule.seconds);
      let sent = 0;
      // A rate schedule may fall behind by 10 s at most; a burst gets 30 s.
      const deadline = publishStart + (schedule.kind === 'rate' ? schedule.seconds * 1000 + 10_000 : 30_000);
      while (sent < total) {
        const elapsed = now() - publishStart;
        if (now() > deadline) {
          errors.push(`publishing stopped at the time limit after ${sent} of ${total} events`);
          break;
        }
        if (spec.stormAtSeconds !== undefined && stormAt === 0 && elapsed >= spec.stormAtSeconds * 1000) {
          stormAt = now();
          reconnected = Promise.all(procs.map((proc) => proc.next('reconnected', CONNECT_TIMEOUT_MS)));
          for (const proc of procs) proc.send({ type: 'drop' });
        }
        const due = schedule.kind === 'burst' ? total : Math.min(total, Math.floor((schedule.perSecond * elapsed) / 1000));
        while (sent < due && publisher.canSend) {
          const topic = sent % spec.topics;
          publisher.send(topics[topic]!, published[topic]!++);
          sent++;
        }
        // A full window waits for a response (with a timer so the storm and the deadline are
        // still checked); a rate schedule ahead of itself waits for its next slot.
        if (sent < due) await Promise.race([publisher.room(), sleep(50)]);
        else await sleep(1);
      }
      await publisher.settle(30_000).catch((err: Error) => errors.push(err.message));
      publishMs = now() - publishStart;
      if (publisher.errors > 0) errors.push(`${publisher.errors} publish errors, first: ${publisher.firstError}`);
    }
    if (reconnected) {
      for (const r of await reconnected) if (r.firstError) errors.push(`reconnect: ${r.failed} failed, first: ${r.firstError}`);
    }

    // --- wait for deliveries to stop -------------------------------------------------------------
    const subscribersPerTopic = topics.map((_, t) => Math.floor(spec.subscribers / spec.topics) + (t < spec.subscribers % spec.topics ? 1 : 0));
    const expected = published.reduce((sum, n, t) => sum + n * subscribersPerTopic[t]!, 0);
    const deliveryDeadline = now() + DELIVERY_TIMEOUT_MS;
    let lastTotal = -1;
    let lastChange = now();
    for (;;) {
      const total = procs.reduce((sum, proc) => sum + proc.delivered, 0);
      if (total >= expected) break;
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = now();
      } else if (now() - lastChange > QUIET_MS) break;
      if (now() > deliveryDeadline) {
        errors.push('deliveries still running at the time limit');
        break;
      }
      await sleep(50);
    }
    const serverCpuMs = treeCpuMs(pids) - cpuStart;
    const peerCpuMs = treeCpuMs(target.peerPids) - peerCpuStart;

    // --- collect ---------------------------------------------------------------------------------
    const finals = procs.map((proc) => proc.next('stats', 30_000));
    for (const proc of procs) proc.send({ type: 'finish', published });
    const stats: SubscriberStats[] = (await Promise.all(finals)).map((m) => m.stats);
    const latency = new Histogram();
    for (const s of stats) latency.merge(s.latency);
    const sum = (f: (s: SubscriberStats) => number): number => stats.reduce((acc, s) => acc + f(s), 0);
    const delivered = sum((s) => s.delivered);
    const lastDeliveryAt = Math.max(...stats.map((s) => s.lastDeliveryAt));
    const caughtUpAt = Math.max(...stats.map((s) => s.caughtUpAt));
    const notCaughtUp = sum((s) => s.notCaughtUp);
    const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
    const publishedTotal = published.reduce((a, b) => a + b, 0);
    return {
      case: spec.id,
      target: target.kind,
      subscribers: spec.subscribers,
      topics: spec.topics,
      connectMs: Math.round(connectMs),
      connectFailed,
      published: publishedTotal,
      publishErrors: publisher?.errors ?? 0,
      expected,
      delivered,
      lost: sum((s) => s.lost),
      duplicated: sum((s) => s.duplicated),
      resets: sum((s) => s.resets),
      broken: sum((s) => s.broken),
      deliveredPerSec: delivered > 0 ? Math.round(delivered / ((lastDeliveryAt - publishStart) / 1000)) : 0,
      publishedPerSec: publishMs > 0 ? Math.round(publishedTotal / (publishMs / 1000)) : 0,
      latencyMs: { p50: round(latency.quantile(0.5)), p90: round(latency.quantile(0.9)), p99: round(latency.quantile(0.99)), max: round(latency.maxMs) },
      rssKiB: { before: rssBefore, afterConnect: rssAfterConnect, peak: rssPeak },
      kibPerConnection: round((rssAfterConnect - rssBefore) / spec.subscribers),
      serverCpuMs,
      peerCpuMs,
      cpuUsPerDelivered: delivered > 0 ? round((serverCpuMs * 1000) / delivered) : 0,
      cpuUsPerPublished: publishedTotal > 0 ? round((serverCpuMs * 1000) / publishedTotal) : 0,
      catchUpMs: stormAt > 0 ? (notCaughtUp === 0 && caughtUpAt > 0 ? Math.round(caughtUpAt - stormAt) : -1) : undefined,
      notCaughtUp: stormAt > 0 ? notCaughtUp : undefined,
      errors,
    };
  } finally {
    clearInterval(sampler);
    await publisher?.close();
    for (const proc of procs) if (proc.child.exitCode === null) proc.child.kill();
  }
}
