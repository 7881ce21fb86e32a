/**
 * Publishers the orchestrator drives: HTTP over a few keep-alive sockets with pipelined requests
 * (a bounded window per socket, so the server sees steady load and this process stays cheap), or
 * straight to NATS. Both stamp each payload with its send time (lib/protocol.ts).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { encodePayload, now } from './protocol.js';

export interface Publisher {
  /** Room for one more event now (window not full). */
  readonly canSend: boolean;
  send(topic: string, n: number): void;
  /** Resolves once `canSend` may be true again (a response came back, a flush finished). */
  room(): Promise<void>;
  /** Resolves when every event sent so far is acknowledged (HTTP) or flushed (NATS). */
  settle(timeoutMs: number): Promise<void>;
  /** Requests the server refused or that failed. */
  readonly errors: number;
  readonly firstError: string | undefined;
  close(): Promise<void>;
}

/** `pathFor(topic)` is the publish path, e.g. `/publish?topic=t1` or `/pub?topic=t1`. */
export async function httpPublisher(port: number, pathFor: (topic: string) => string, sockets = 4, window = 32): Promise<Publisher> {
  let wake: (() => void) | undefined;
  const onResponse = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const lanes = await Promise.all(Array.from({ length: sockets }, () => PipelinedLane.open(port, onResponse)));
  let turn = 0;
  return {
    get canSend() {
      return lanes.some((lane) => lane.inFlight < window);
    },
    send(topic, n) {
      for (let i = 0; i < lanes.length; i++) {
        const lane = lanes[(turn + i) % lanes.length]!;
        if (lane.inFlight < window) {
          turn = (turn + i + 1) % lanes.length;
          return lane.post(pathFor(topic), encodePayload(n, now()));
        }
      }
      throw new Error('publisher window is full');
    },
    room() {
      return new Promise<void>((resolve) => (wake = resolve));
    },
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (lanes.some((lane) => lane.inFlight > 0)) {
        if (Date.now() > deadline) throw new Error('publish responses did not all arrive in time');
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    get errors() {
      return lanes.reduce((sum, lane) => sum + lane.errors, 0);
    },
    get firstError() {
      return lanes.find((lane) => lane.firstError !== undefined)?.firstError;
    },
    async close() {
      for (const lane of lanes) lane.socket.destroy();
    },
  };
}

/** One keep-alive connection with up to `window` requests in flight; counts the responses. */
class PipelinedLane {
  inFlight = 0;
  errors = 0;
  firstError: string | undefined = undefined;
  private buffer = '';

  private constructor(
    readonly socket: Socket,
    private readonly onResponse: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('error', (err) => this.fail(`publisher socket: ${err.message}`));
  }

  static open(port: number, onResponse: () => void): Promise<PipelinedLane> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(new PipelinedLane(socket, onResponse)));
      socket.once('error', reject);
    });
  }

  post(path: string, body: string): void {
    this.inFlight++;
    this.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  }

  private fail(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }

  // Responses come back in request order; each ends after its Content-Length body or its last chunk.
  private onData(text: string): void {
    this.buffer += text;
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = this.buffer.slice(0, headEnd);
      let end: number;
      const length = /^content-length:\s*(\d+)/im.exec(head);
      if (length) {
        end = headEnd + 4 + Number(length[1]);
        if (this.buffer.length < end) return;
      } else if (/^transfer-encoding:\s*chunked/im.test(head)) {
        const last = this.buffer.indexOf('\r\n0\r\n\r\n', headEnd + 2);
        if (last < 0) return;
        end = last + 7;
      } else end = headEnd + 4;
      const status = Number(head.slice(9, 12));
      if (status < 200 || status > 299) this.fail(`HTTP ${status}: ${this.buffer.slice(headEnd + 4, Math.min(end, headEnd + 200))}`);
      this.buffer = this.buffer.slice(end);
      this.inFlight--;
      this.onResponse();
    }
  }
}

/** Publishes to `<prefix>.<topic>` on a NATS server; core NATS, so "sent" is all it can know. */
export async function natsPublisher(url: string, prefix: string): Promise<Publisher> {
  const nc: NatsConnection = await natsConnect({ servers: url, name: 'ssehub-loadtest' });
  const encoder = new TextEncoder();
  let pending = 0;
  let flushing: Promise<void> = Promise.resolve();
  return {
    get canSend() {
      // Keep the client's outbound buffer bounded: flush every few thousand messages.
      return pending < 4096;
    },
    send(topic, n) {
      nc.publish(`${prefix}.${topic}`, encoder.encode(encodePayload(n, now())));
      if (++pending >= 4096) flushing = nc.flush().then(() => void (pending = 0));
    },
    room() {
      return flushing;
    },
    async settle(timeoutMs) {
      await Promise.race([nc.flush(), new Promise((_, reject) => setTimeout(() => reject(new Error('NATS flush timed out')), timeoutMs))]);
      pending = 0;
    },
    errors: 0,
    firstError: undefined,
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
