/**
 * One open event stream. Everything that ends it (client gone, slow consumer, shutdown, age limit,
 * token expiry) goes through one AbortSignal, so teardown runs once and in one place.
 */
import type { Socket } from 'node:net';
import { HEARTBEAT_FRAME } from './frame.js';
import { SseWriter } from './writer.js';

export const CloseReason = {
  ClientClosed: 'client-closed',
  SlowConsumer: 'slow-consumer',
  Shutdown: 'shutdown',
  MaxAge: 'max-age',
  /** The bus could not subscribe this stream, or serve the history it needed; the client retries with the same id. */
  BusUnavailable: 'bus-unavailable',
  /** The token that opened the stream expired; the client reconnects with a fresh one and resumes. */
  TokenExpired: 'token-expired',
  /** A reload changed the keys or the anonymous patterns, and the stream's credential no longer holds. */
  CredentialsRevoked: 'credentials-revoked',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** The fixed response headers of every event stream, built once. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  // The body is delimited by the connection's close, as nchan's streams are: an event stream only
  // ever ends that way, so chunked framing buys nothing and costs a chunk header per flush. So say
  // so: no client or proxy may expect to reuse this connection.
  Connection: 'close',
});

/**
 * An accepted stream's socket, out of Node's HTTP machinery (src/http/stream-socket.ts), and the
 * response head (status and headers, SSE_HEADERS among them) it still owes its client.
 */
export interface StreamSocket {
  readonly socket: Socket;
  readonly head: Buffer;
}

/** Where a stream is on its way in: waiting for its subscriptions, catching up, then live. */
const Stage = { Opening: 'opening', CatchingUp: 'catching-up', Live: 'live' } as const;
type Stage = (typeof Stage)[keyof typeof Stage];

// setTimeout holds at most 2^31-1 ms (~24.8 days); a later deadline is re-armed when that passes.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SseConnection {
  private readonly controller = new AbortController();
  readonly writer: SseWriter;
  readonly openedAt = Date.now();
  private position = 0;
  private deliveredCount = 0;
  private stage: Stage = Stage.Opening;
  /**
   * Live events that arrive while the stream catches up are held here, bounded like the writer,
   * and written once it goes live; undefined when there are none.
   */
  private held: Array<[seq: number, frame: Buffer]> | undefined = undefined;
  private heldBytes = 0;
  /** Max-age and token-expiry timers; undefined until one is armed (most streams have none). */
  private deadlines: NodeJS.Timeout[] | undefined = undefined;

  private readonly socket: Socket;

  constructor(
    readonly id: string,
    stream: StreamSocket,
    /** Bus subject patterns, prefix included. */
    readonly patterns: readonly string[],
    private readonly maxBufferedBytes: number,
    /** The first bytes of the stream (the retry line); they leave with the response head. */
    opening: Buffer,
    /** Opened with `fields=topic`: it gets the frames that carry a `topic:` line. */
    readonly withTopic = false,
  ) {
    const socket = stream.socket;
    this.socket = socket;
    // The head is the writer's first frame: head, retry line and whatever this turn adds leave in one write.
    this.writer = new SseWriter(socket, maxBufferedBytes, () => this.close(CloseReason.SlowConsumer));
    this.writer.write(stream.head);
    this.writer.write(opening);
    const clientGone = (): void => this.close(CloseReason.ClientClosed);
    // 'end': the client closed its side (an EventSource closing, a proxy giving up); 'close': the socket is gone.
    socket.on('end', clientGone);
    socket.on('close', clientGone);
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

  /** Highest event seq this stream is at: a frame at or below it is a duplicate and is skipped. */
  get lastSeq(): number {
    return this.position;
  }

  /** Events written to this stream (replayed and live). */
  get delivered(): number {
    return this.deliveredCount;
  }

  /** Bytes accepted for this stream and not yet handed to the kernel: held while catching up, plus the writer's. */
  get bufferedBytes(): number {
    return this.heldBytes + this.writer.pendingBytes;
  }

  /** In the live fan-out (it may still be catching up). */
  get joined(): boolean {
    return this.stage !== Stage.Opening;
  }

  /**
   * Joins the fan-out while the stream catches up: live events are held until goLive(), so they
   * follow the history that is written meanwhile.
   */
  holdLive(): void {
    this.stage = Stage.CatchingUp;
  }

  /** Caught up: write the live events held meanwhile (minus those the catch-up already covered). */
  goLive(): void {
    const held = this.held ?? [];
    this.stage = Stage.Live;
    this.held = undefined;
    this.heldBytes = 0;
    for (const [seq, frame] of held) this.deliver(seq, frame);
  }

  /** The stream is at `seq` (a position frame or a reset said so): events up to it are not sent. */
  positionAt(seq: number): void {
    this.position = Math.max(this.position, seq);
  }

  /** Write an event frame unless this stream already has it (or something later). */
  deliver(seq: number, frame: Buffer): boolean {
    if (seq <= this.position) return false;
    if (this.stage === Stage.CatchingUp) {
      (this.held ??= []).push([seq, frame]);
      this.heldBytes += frame.length;
      if (this.heldBytes > this.maxBufferedBytes) this.close(CloseReason.SlowConsumer);
      return true;
    }
    this.position = seq;
    this.deliveredCount++;
    this.writer.write(frame);
    return true;
  }

  /** Write replayed event frames; returns their bytes. */
  sendReplay(frames: readonly Buffer[]): number {
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    // A replay is bounded (replay buffer, HUB_HISTORY_MAX_EVENTS) and shares its frames: let it through
    // the slow-consumer limit, which is there for live events that pile up.
    this.writer.allow(bytes);
    for (const frame of frames) this.writer.write(frame);
    this.deliveredCount += frames.length;
    return bytes;
  }

  /** Write a frame that is not a numbered event (retry, reset, position). */
  send(frame: Buffer): void {
    this.writer.write(frame);
  }

  /** One heartbeat interval has passed: a stream that wrote nothing during it gets a comment line. */
  heartbeat(): void {
    this.writer.tick(HEARTBEAT_FRAME);
  }

  /** End the stream with `reason` at `at` (epoch ms), unless it ends before. */
  closeAt(at: number, reason: CloseReason): void {
    // Always through a timer, even when already due: the stream never ends inside the call that
    // opens it, whatever its opener still has to set up.
    const arm = (): void => {
      const fire = (): void => (Date.now() >= at ? this.close(reason) : arm());
      const timer = setTimeout(fire, Math.max(0, Math.min(at - Date.now(), MAX_TIMER_MS)));
      timer.unref();
      (this.deadlines ??= []).push(timer);
    };
    arm();
  }

  close(reason: CloseReason): void {
    if (!this.closed) this.controller.abort(reason);
  }

  private teardown(): void {
    for (const timer of this.deadlines ?? []) clearTimeout(timer);
    const reason = this.closeReason;
    if (reason === CloseReason.SlowConsumer) {
      // Its socket is full: a graceful end would wait behind the backlog. Cut it; the client
      // discards the partial frame and resumes from the last whole event it got.
      this.writer.close();
      this.socket.destroy();
    } else {
      this.writer.flush();
      this.writer.close();
      // FIN once what was written has left, then let go of the socket (as Node's HTTP server ends a
      // `Connection: close` response), without waiting for the client's own FIN.
      if (!this.socket.destroyed) this.socket.destroySoon();
    }
  }
}
