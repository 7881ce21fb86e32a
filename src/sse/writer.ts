/**
 * A per-connection buffered writer. Frames queued in one turn of the event loop leave in one write
 * (every writer with frames is flushed once at the end of the turn, or at once past FLUSH_NOW_BYTES);
 * only whole frames are ever queued, so a flush never sends half an event. It honours backpressure
 * (stops at `write() === false` and waits for 'drain') and bounds what it holds: past the limit it
 * reports overflow instead of growing.
 *
 * It writes to the stream's bare socket (see SseConnection): the response head is its first frame,
 * so head, retry line, any replay and the position frame leave in one write.
 */
import type { Writable } from 'node:stream';

// Above this, don't wait for the end of the turn: a replay or a burst should start moving now.
const FLUSH_NOW_BYTES = 64 * 1024;
// Batches are concatenated into one chunk: one copy costs far less than a stream write per frame
// (a replay is thousands of small frames). Only batches of large frames are corked and written as
// they are, so big payloads are not copied (they are shared with the replay buffer and other clients).
const CONCAT_LIMIT = 16 * 1024;
const LARGE_FRAME_BYTES = 4 * 1024;

// Writers with frames queued in this turn. One setImmediate per turn flushes them all: everything
// the turn brought (several pipelined publishes, a NATS read of many messages) leaves each
// connection in one write, and scheduling costs one callback per turn, not one per connection.
const dirty: SseWriter[] = [];
let flushScheduled = false;

function flushDirty(): void {
  flushScheduled = false;
  // A flush never queues frames, so the list cannot grow under this loop.
  for (let i = 0; i < dirty.length; i++) dirty[i]!.flush();
  dirty.length = 0;
}

export class SseWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private waitingForDrain = false;
  private closed = false;
  /** Extra bytes allowed above the limit, for a replay the hub chose to send (it is bounded itself). */
  private allowance = 0;
  /** Set on every write, cleared by tick(): a stream that stayed quiet for a whole tick gets a heartbeat. */
  private wroteSinceTick = true;
  bytesWritten = 0;

  /** Made the first time the socket says stop: most streams never wait for 'drain', and it costs a closure each. */
  private onDrain: (() => void) | undefined = undefined;

  constructor(
    private readonly out: Writable,
    private readonly maxBufferedBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  /** Bytes accepted but not yet handed to the kernel: our queue plus the socket's own buffer. */
  get pendingBytes(): number {
    return this.queuedBytes + this.out.writableLength;
  }

  write(frame: Buffer): void {
    if (this.closed) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.wroteSinceTick = true;
    if (this.pendingBytes > this.maxBufferedBytes + this.allowance) {
      this.closed = true;
      this.queue = [];
      this.queuedBytes = 0;
      this.onOverflow();
      return;
    }
    if (this.waitingForDrain) return;
    if (this.queuedBytes >= FLUSH_NOW_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushDirty);
      }
    }
  }

  /** One heartbeat interval has passed: write `heartbeat` if nothing else was written during it. */
  tick(heartbeat: Buffer): void {
    if (!this.wroteSinceTick) this.write(heartbeat);
    this.wroteSinceTick = false;
  }

  /** Let `bytes` more than the usual limit be pending until the next drain (a replay burst). */
  allow(bytes: number): void {
    this.allowance += bytes;
  }

  flush(): void {
    this.scheduled = false;
    if (this.closed || this.waitingForDrain || this.queuedBytes === 0) return;
    const queue = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.bytesWritten += bytes;
    const out = this.out;
    let ok: boolean;
    if (queue.length === 1) ok = out.write(queue[0]!);
    else if (bytes <= CONCAT_LIMIT || bytes < LARGE_FRAME_BYTES * queue.length) ok = out.write(Buffer.concat(queue, bytes));
    else {
      out.cork();
      ok = true;
      for (const frame of queue) ok = out.write(frame);
      out.uncork();
    }
    if (!ok) {
      this.waitingForDrain = true;
      out.once(
        'drain',
        (this.onDrain ??= () => {
          this.waitingForDrain = false;
          this.flush();
          this.settleAllowance();
        }),
      );
    } else this.settleAllowance();
  }

  // A replay allowance ends once what is pending fits the ordinary limit again.
  private settleAllowance(): void {
    if (this.allowance > 0 && this.pendingBytes <= this.maxBufferedBytes) this.allowance = 0;
  }

  /** Stop writing; anything still queued is dropped (the caller ends or destroys the socket). */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.onDrain) this.out.off('drain', this.onDrain);
  }
}
