/**
 * The embedded bus: one process, no network. It numbers every published message itself, so an
 * HTTP publish learns its id at once, and it delivers synchronously in publish order.
 * Subscriptions behave like NATS ones: a message goes to every matching subscription, overlapping
 * ones included.
 */
import { randomBytes } from 'node:crypto';
import type { Bus, BusMessage, BusStatus, BusSubscription, MessageHandler, PublishOptions, PublishResult } from './bus.js';
import { LocalDispatch } from './local-dispatch.js';
import { LocalControl } from './local-control.js';
import { BusPublishError } from '../errors.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory';
  readonly coverageSurvivesDisconnect = true;
  readonly clusterWideIds = false;
  readonly epoch = randomBytes(4).toString('hex');
  readonly control = new LocalControl();
  private seq = 0;
  private closed = false;
  private readonly subscriptions = new LocalDispatch();

  async subscribe(pattern: string, onMessage: MessageHandler): Promise<{ subscription: BusSubscription; since: number }> {
    if (this.closed) throw new Error('bus is closed');
    const subscription = this.subscriptions.add(pattern, onMessage);
    return { subscription, since: this.seq };
  }

  /** `msgId` is ignored: one process, no redelivery, nothing to de-duplicate. */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.closed) throw new BusPublishError('not-published', 'bus is closed');
    const msg: BusMessage = { subject, data, eventType: options.eventType, seq: ++this.seq };
    this.subscriptions.dispatch(msg);
    return { seq: msg.seq };
  }

  head(): number {
    return this.seq;
  }

  isConnected(): boolean {
    return !this.closed;
  }

  onStatus(_listener: (status: BusStatus) => void): void {
    // Always connected until closed; nothing to report.
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
