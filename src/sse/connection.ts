/**
 * One open event stream. Everything that ends it (client gone, slow consumer, shutdown, age limit)
 * goes through one AbortSignal, so teardown runs once and in one place.
 */
import type { ServerResponse } from 'node:http';
import { SseWriter } from './writer.js';

export const CloseReason = {
  ClientClosed: 'client-closed',
  SlowConsumer: 'slow-consumer',
  Shutdown: 'shutdown',
  MaxAge: 'max-age',
  /** The bus could not serve the history this stream needed; the client retries with the same id. */
  BusUnavailable: 'bus-unavailable',
  /** The token that opened the stream expired; the client reconnects with a fresh one and resumes. */
  TokenExpired: 'token-expired',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** The fixed response headers of every event stream, built once. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  // The body ends when the connection does (no chunked framing, see the constructor), so say so:
  // no client or proxy may expect to reuse this connection.
  Connection: 'close',
});

export class SseConnection {
  private readonly controller = new AbortController();
  readonly writer: SseWriter;
  readonly openedAt = Date.now();
  /** Highest event seq written: a frame at or below it is a duplicate and is skipped. */
  lastSeq = 0;
  /** Joined the live fan-out (after any replay). */
  attached = false;
  /** Events written to this stream (replayed and live). */
  delivered = 0;

  constructor(
    readonly id: string,
    private readonly res: ServerResponse,
    /** Bus subject patterns, prefix included. */
    readonly patterns: readonly string[],
    private readonly maxBufferedBytes: number,
    /** The first bytes of the stream (the retry line); they leave with the response head. */
    opening: Buffer,
  ) {
    // The body is delimited by the connection's close, as nchan's streams are: an event stream
    // only ever ends that way, so chunked framing buys nothing and costs a chunk header and three
    // extra writes per flush. The writer's first flush carries the head; then it owns the socket.
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, SSE_HEADERS);
    this.writer = new SseWriter(res, maxBufferedBytes, () => this.close(CloseReason.SlowConsumer));
    this.writer.write(opening);
    res.once('close', () => this.close(CloseReason.ClientClosed));
    this.signal.addEventListener('abort', () => this.teardown(), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  get closeReason(): CloseReason | undefined {
    return this.closed ? (this.controller.signal.reason as CloseReason) : undefined;
  }

  /**
   * Live events that arrive while the stream catches up from the bus are held here, bounded like
   * the writer, and written once the history is out.
   */
  private held: Array<[seq: number, frame: Buffer]> | undefined;
  private heldBytes = 0;

  hold(): void {
    this.held = [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const [seq, frame] of held) this.deliver(seq, frame);
  }

  /** Write an event frame unless this stream already has it (or something later). */
  deliver(seq: number, frame: Buffer): boolean {
    if (seq <= this.lastSeq) return false;
    if (this.held) {
      this.held.push([seq, frame]);
      this.heldBytes += frame.length;
      if (this.heldBytes > this.maxBufferedBytes) this.close(CloseReason.SlowConsumer);
      return true;
    }
    this.lastSeq = seq;
    this.delivered++;
    this.writer.write(frame);
    return true;
  }

  /** Write a frame that is not a numbered event (heartbeat, retry, reset, position). */
  send(frame: Buffer): void {
    this.writer.write(frame);
  }

  close(reason: CloseReason): void {
    if (!this.closed) this.controller.abort(reason);
  }

  private teardown(): void {
    const reason = this.closeReason;
    if (reason === CloseReason.SlowConsumer) {
      // Its socket is full: a graceful end would wait behind the backlog. Cut it; the client
      // discards the partial frame and resumes from the last whole event it got.
      this.writer.close();
      this.res.destroy();
    } else {
      this.writer.flush();
      this.writer.close();
      if (!this.res.writableEnded) this.res.end();
    }
  }
}
