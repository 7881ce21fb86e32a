/**
 * Acknowledged JetStream publishes on the core connection, many in flight at once. A publish is a
 * core message with a reply subject under one inbox this publisher subscribes to once; the stream's
 * ack (or its error, or the server's "no responders") comes back there and settles the publish by
 * the reply subject's last token. Timeouts are one coarse sweep over the pending publishes, oldest
 * first, not a timer per publish. Publishes of one event-loop turn (the HTTP requests one poll of
 * the sockets brought) are sent together at the end of it, so they leave in one write to NATS
 * instead of one write each (the client flushes once per microtask checkpoint, that is, per request).
 *
 * Why not the client's `js.publish`: it makes a request per publish (a timer, a promise chain, its
 * own header and option handling) and costs about 62 µs of CPU per publish at 16 in flight, where
 * this costs a fraction of that (docs/nats.md, docs/performance.md). What it gave stays: `Nats-Msg-Id`
 * de-duplicates in the stream, a duplicate ack says `duplicate`, and an error says whether anything
 * may have been stored.
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';
import { BusPublishError } from '../../errors.js';
import type { PublishOptions, PublishResult } from '../bus.js';
import { natsHeaders } from '../nats-message.js';

interface Queued {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly options: PublishOptions;
  readonly token: string;
}

interface Pending {
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (err: BusPublishError) => void;
  readonly sentAt: number;
}

/** The stream's answer to a publish: `{"stream":"S","seq":7,"duplicate":true}` or `{"error":{...}}`. */
interface PubAck {
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
}

// A publish is given up between timeout and timeout + one sweep interval: a quarter of the timeout
// (at most 1 s) keeps the sweep cheap and the answer close to the configured time.
const MAX_SWEEP_MS = 1000;
const decoder = new TextDecoder();

export class AckedPublisher {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private count = 0;
  private queue: Queued[] = [];

  /** `canSend` says whether the connection may take a publish now (connected, not closing). */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    private readonly canSend: () => boolean,
  ) {
    this.prefix = `${createInbox()}.`;
    this.subscription = nc.subscribe(`${this.prefix}*`, { callback: (_err, msg) => this.settle(msg) });
    this.sweeper = setInterval(() => this.sweep(), Math.min(MAX_SWEEP_MS, Math.max(25, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /** Publishes in flight (sent, not yet acknowledged or given up). */
  get inFlight(): number {
    return this.pending.size;
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    const token = (++this.count).toString(36);
    return new Promise<PublishResult>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, sentAt: performance.now() });
      if (this.queue.push({ subject, data, options, token }) === 1) setImmediate(this.sendQueued);
    });
  }

  private readonly sendQueued = (): void => {
    const queue = this.queue;
    this.queue = [];
    // Checked in the same turn as the sends, so nothing can close or drain the connection between.
    const open = this.canSend();
    for (const { subject, data, options, token } of queue) {
      const pending = this.pending.get(token);
      if (!pending) continue; // closed meanwhile
      if (!open) {
        this.pending.delete(token);
        pending.reject(new BusPublishError('not-published', 'NATS is not connected'));
        continue;
      }
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers: natsHeaders(options) });
      } catch (err) {
        // Refused by the client before anything was sent: too large, or the connection closed.
        this.pending.delete(token);
        pending.reject(new BusPublishError('not-published', `NATS refused the event: ${(err as Error).message}`, { cause: err }));
      }
    }
  };

  /** Every publish still waiting fails as unknown: it was sent, and its answer will not be read. */
  close(): void {
    clearInterval(this.sweeper);
    // Not sent yet: certainly not stored.
    for (const { token } of this.queue) {
      this.pending.get(token)?.reject(new BusPublishError('not-published', 'the bus closed before the event was sent'));
      this.pending.delete(token);
    }
    this.queue = [];
    this.subscription.unsubscribe();
    for (const [token, pending] of this.pending) {
      this.pending.delete(token);
      pending.reject(new BusPublishError('unknown', 'JetStream did not acknowledge the event before the bus closed'));
    }
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const pending = this.pending.get(token);
    // Late: the sweep already gave it up (its answer said "unknown"; a retry under its msgId settles it).
    if (!pending) return;
    this.pending.delete(token);
    // The server's "no responders": no stream takes the subject, nothing was stored.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      return pending.reject(new BusPublishError('not-published', 'JetStream refused the event: no stream takes its subject (no responders)'));
    }
    let ack: PubAck;
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as PubAck;
    } catch {
      return pending.reject(new BusPublishError('unknown', 'JetStream answered the publish with something that is not an ack'));
    }
    if (ack.error) {
      // An API error (a full stream with `discard: new`, a wrong expected header): nothing stored.
      return pending.reject(new BusPublishError('not-published', `JetStream refused the event: ${ack.error.description ?? 'error'} (${ack.error.err_code ?? ack.error.code})`));
    }
    if (typeof ack.seq !== 'number') return pending.reject(new BusPublishError('unknown', 'JetStream answered the publish without a sequence'));
    pending.resolve({ seq: ack.seq, duplicate: ack.duplicate === true });
  }

  // Map order is send order, so the expired ones are at the front.
  private sweep(): void {
    const expired = performance.now() - this.timeoutMs;
    for (const [token, pending] of this.pending) {
      if (pending.sentAt > expired) return;
      this.pending.delete(token);
      pending.reject(new BusPublishError('unknown', `JetStream did not acknowledge the event within ${this.timeoutMs} ms`));
    }
  }
}
