/**
 * A subscriber process: holds its share of the connections (raw sockets, one SseResponseParser
 * each), checks every event's sequence number, and records publish-to-receive latency. Driven by
 * the orchestrator over IPC (lib/protocol.ts); it exits on 'finish', when the orchestrator goes
 * away, or after HARD_LIMIT_MS whatever happens.
 */
import { connect, type Socket } from 'node:net';
import { Histogram } from './lib/histogram.js';
import { now, parsePayload, type FromSubscriber, type SubscriberPlan, type ToSubscriber } from './lib/protocol.js';
import { SseResponseParser, type SseBlock } from './lib/sse-parser.js';

const HARD_LIMIT_MS = 5 * 60_000;
const PROGRESS_EVERY_MS = 200;

const send = (msg: FromSubscriber): void => void process.send?.(msg);
setTimeout(() => process.exit(3), HARD_LIMIT_MS).unref();
process.on('disconnect', () => process.exit(0));

let plan: SubscriberPlan;
const latency = new Histogram();
let delivered = 0;
let duplicated = 0;
let resets = 0;
let broken = 0;
let firstDeliveryAt = 0;
let lastDeliveryAt = 0;
let dropping = false;

class Subscriber {
  socket: Socket | undefined = undefined;
  /**
   * Which n this connection has had on its topic, one bit each: events published over several
   * sockets reach the server in any order, so counting distinct ones is what tells lost from
   * duplicated. Grows by doubling; bounded by the events published to one topic.
   */
  seen = new Uint8Array(16);
  distinct = 0;
  lastId: string | undefined = undefined;
  ready = false;
  reconnectedAt = 0;
  caughtUpAt = 0;
  private onReady: ((error?: string) => void) | undefined = undefined;

  constructor(readonly topic: number) {}

  open(path: string, lastEventId: string | undefined): Promise<string | undefined> {
    this.ready = false;
    return new Promise((resolve) => {
      this.onReady = (error) => {
        this.onReady = undefined;
        resolve(error);
      };
      let parser: SseResponseParser | undefined = undefined;
      // onread: the socket reads into one buffer this process shares, and no stream machinery runs
      // per read (the parser copies what it needs into a string at once).
      const socket = connect({
        port: plan.port,
        host: '127.0.0.1',
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n) => {
            parser!.push(readBuffer, n);
            return true;
          },
        },
      });
      this.socket = socket;
      parser = new SseResponseParser(
        (status) => {
          if (status !== 200) return this.onReady?.(`HTTP ${status}`);
          if (plan.readyMarker === 'headers') this.markReady();
        },
        (block) => this.onBlock(block),
      );
      const extra = lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${extra}\r\n`);
      socket.on('error', (err) => this.onReady?.(err.message));
      socket.on('close', () => {
        if (this.socket !== socket) return; // a socket we dropped on purpose
        this.onReady?.('closed before ready');
        if (!dropping) broken++;
        this.socket = undefined;
      });
    });
  }

  private markReady(): void {
    this.ready = true;
    if (this.reconnectedAt !== 0) this.reconnectedAt = now();
    this.onReady?.();
  }

  private onBlock(block: SseBlock): void {
    if (block.id !== undefined) this.lastId = block.id;
    if (block.comment) {
      if (!this.ready && plan.readyMarker === 'comment') this.markReady();
      return;
    }
    if (block.event === 'hub.open') {
      if (!this.ready && plan.readyMarker === 'hub.open') this.markReady();
      return;
    }
    if (block.event === 'hub.reset') {
      resets++;
      return;
    }
    if (block.data === undefined) return;
    const payload = parsePayload(block.data);
    if (!payload) return;
    const at = now();
    const byte = payload.n >> 3;
    const bit = 1 << (payload.n & 7);
    if (byte >= this.seen.length) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, byte + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[byte]! & bit) {
      duplicated++;
      return;
    }
    this.seen[byte]! |= bit;
    this.distinct++;
    delivered++;
    if (firstDeliveryAt === 0) firstDeliveryAt = at;
    lastDeliveryAt = at;
    latency.record(at - payload.sentAt);
    if (this.reconnectedAt > 0 && this.caughtUpAt === 0 && payload.sentAt > this.reconnectedAt) this.caughtUpAt = at;
  }
}

const subscribers: Subscriber[] = [];
const readBuffer = Buffer.allocUnsafe(256 * 1024);

function pathFor(sub: Subscriber): string {
  return plan.pathTemplate.replace('{topic}', encodeURIComponent(plan.topics[sub.topic]!));
}

/** Open (or reopen) every connection, a bounded number at a time. */
async function openAll(resume: boolean): Promise<{ failed: number; firstError: string | undefined }> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async (): Promise<void> => {
    while (next < subscribers.length) {
      const sub = subscribers[next++]!;
      const error = await sub.open(pathFor(sub), resume ? sub.lastId : undefined);
      if (error !== undefined) {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.connectConcurrency, subscribers.length) }, lane));
  return { failed, firstError };
}

function stats(published: readonly number[]): FromSubscriber {
  let lost = 0;
  let caughtUpAt = 0;
  let notCaughtUp = 0;
  for (const sub of subscribers) {
    lost += Math.max(0, published[sub.topic]! - sub.distinct);
    if (sub.reconnectedAt > 0) {
      if (sub.caughtUpAt === 0) notCaughtUp++;
      else caughtUpAt = Math.max(caughtUpAt, sub.caughtUpAt);
    }
  }
  return {
    type: 'stats',
    stats: { delivered, lost, duplicated, resets, broken, firstDeliveryAt, lastDeliveryAt, caughtUpAt, notCaughtUp, latency: { counts: latency.counts, maxMs: latency.maxMs } },
  };
}

process.on('message', (msg: ToSubscriber) => {
  switch (msg.type) {
    case 'plan':
      plan = msg.plan;
      for (let i = plan.first; i < plan.first + plan.count; i++) subscribers.push(new Subscriber(i % plan.topics.length));
      setInterval(() => send({ type: 'progress', delivered }), PROGRESS_EVERY_MS).unref();
      send({ type: 'started' });
      return;
    case 'connect':
      void openAll(false).then(({ failed, firstError }) => send({ type: 'ready', failed, firstError }));
      return;
    case 'drop': {
      dropping = true;
      const at = now();
      for (const sub of subscribers) {
        const socket = sub.socket;
        sub.socket = undefined;
        socket?.destroy();
        sub.reconnectedAt = at; // refined to the moment it is live again
        sub.caughtUpAt = 0;
      }
      dropping = false;
      void openAll(true).then(({ failed, firstError }) => send({ type: 'reconnected', failed, firstError }));
      return;
    }
    case 'finish':
      for (const sub of subscribers) {
        const socket = sub.socket;
        sub.socket = undefined;
        socket?.destroy();
      }
      send(stats(msg.published));
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
