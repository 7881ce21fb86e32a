/**
 * A per-connection buffered writer. Frames queued in one turn of the event loop leave in one write
 * (flushed from a microtask, or at once past FLUSH_NOW_BYTES); only whole frames are ever queued, so
 * a flush never sends half an event. It honours backpressure (stops at `write() === false` and waits
 * for 'drain') and bounds what it holds: past the limit it reports overflow instead of growing.
 */
import type { ServerResponse } from 'node:http';

// Above this, don't wait for the end of the turn: a replay or a burst should start moving now.
const FLUSH_NOW_BYTES = 64 * 1024;
// Small batches are concatenated into one chunk; larger ones are corked and written as they are,
// so a big replay is not copied (the frames are shared with the replay buffer and other clients).
const CONCAT_LIMIT = 16 * 1024;

export class SseWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private waitingForDrain = false;
  private closed = false;
  /** Extra bytes allowed above the limit, for a replay the hub chose to send (it is bounded itself). */
  private allowance = 0;
  /** Set on every write; the hub's heartbeat ticker clears it and beats only where it stayed clear. */
  wroteSinceTick = true;
  bytesWritten = 0;

  private readonly flushBound = (): void => this.flush();
  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    this.flush();
    this.settleAllowance();
  };

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  /** Bytes accepted but not yet handed to the kernel: our queue plus the response's own buffer. */
  get pendingBytes(): number {
    return this.queuedBytes + this.res.writableLength;
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
      queueMicrotask(this.flushBound);
    }
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
    let ok: boolean;
    if (queue.length === 1) ok = this.res.write(queue[0]!);
    else if (bytes <= CONCAT_LIMIT) ok = this.res.write(Buffer.concat(queue, bytes));
    else {
      this.res.cork();
      ok = true;
      for (const frame of queue) ok = this.res.write(frame);
      this.res.uncork();
    }
    if (!ok) {
      this.waitingForDrain = true;
      this.res.once('drain', this.onDrain);
    } else this.settleAllowance();
  }

  // A replay allowance ends once what is pending fits the ordinary limit again.
  private settleAllowance(): void {
    if (this.allowance > 0 && this.pendingBytes <= this.maxBufferedBytes) this.allowance = 0;
  }

  /** Stop writing; anything still queued is dropped (the caller ends or destroys the response). */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.res.off('drain', this.onDrain);
  }
}
