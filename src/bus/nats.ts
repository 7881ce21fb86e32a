/**
 * Core NATS bus. Ids are node-local: this adapter numbers messages in the order this node receives
 * them, under an epoch that is new each process, so a resume works on the same replica only.
 * Messages published while the connection is down are lost; the hub tells clients with `hub.reset`.
 *
 * Client library: `nats` (v2), one package that also carries JetStream, and talks to Debian's
 * nats-server 2.9 (see docs/nats.md for the choice).
 */
import { randomBytes } from 'node:crypto';
import { BusPublishError } from '../errors.js';
import type { NatsConnection, Subscription } from 'nats';
import { closeNats, connectNats, watchNats, type NatsBusConnectionOptions } from './nats-connection.js';
import { natsHeaders, toBusMessage } from './nats-message.js';
import { BusStatusReporter } from './status.js';
import { NatsControl } from './nats-control.js';
import type { Bus, BusStatus, BusSubscription, MessageHandler, PublishOptions, PublishResult } from './bus.js';

export type NatsBusOptions = NatsBusConnectionOptions;

export class NatsBus implements Bus {
  readonly kind = 'nats';
  readonly coverageSurvivesDisconnect = false;
  readonly clusterWideIds = false;
  readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  private closing = false;
  private nc: NatsConnection | undefined;
  private readonly status: BusStatusReporter;
  /** Resolves on the first connection; connecting keeps retrying, so a hub can start before NATS. */
  private readonly connection: Promise<NatsConnection>;
  readonly control: NatsControl;

  constructor(private readonly options: NatsBusOptions) {
    this.status = new BusStatusReporter(options.log);
    this.connection = connectNats(options, 'ssehub');
    this.control = new NatsControl(this.connection);
    this.connection.then(
      (nc) => {
        this.nc = nc;
        // close() came first: nats.js cannot cancel a first connect, so undo it as soon as it lands.
        if (this.closing) return void nc.close();
        this.setConnected(true, 'connected', false);
        void watchNats(
          nc,
          {
            disconnected: (reason) => this.setConnected(false, reason),
            reconnected: (reason) => this.setConnected(true, reason, true),
          },
          options.log,
          () => this.closing,
        );
      },
      (err: unknown) => options.log.error({ err }, 'nats connection failed for good'),
    );
    // Never an unhandled rejection: callers of subscribe/publish see the error themselves.
    this.connection.catch(() => {});
  }

  async subscribe(pattern: string, onMessage: MessageHandler): Promise<{ subscription: BusSubscription; since: number }> {
    const nc = await this.connection;
    const sub: Subscription = nc.subscribe(pattern, {
      callback: (err, msg) => {
        if (err) return; // permission or slow-consumer errors arrive through status() and are logged there
        onMessage(toBusMessage(msg, ++this.seq));
      },
    });
    // After a round trip the server has our SUB: every later message reaches us.
    await nc.flush();
    // Messages nobody here listened to never got a number, so the sequence alone cannot show that
    // this pattern was uncovered before now. Spending a number marks the moment coverage began.
    return { subscription: { pattern, unsubscribe: () => sub.unsubscribe() }, since: ++this.seq };
  }

  /**
   * Core NATS keeps nothing, so `msgId` only travels as a header for consumers that care. Resolves
   * once the server has read the message (a PING answered after it), that is, once it went to the
   * subscriptions the server had then; a server that stops answering fails it as `unknown` when the
   * connection is found stale.
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const nc = this.nc;
    if (!this.status.connected || !nc) throw new BusPublishError('not-published', 'NATS is not connected');
    try {
      nc.publish(subject, data, { headers: natsHeaders(options) });
    } catch (err) {
      // Thrown before anything is written (the connection is draining or closed).
      throw new BusPublishError('not-published', `NATS refused the event: ${(err as Error).message}`, { cause: err });
    }
    try {
      await nc.flush();
    } catch (err) {
      throw new BusPublishError('unknown', `NATS did not confirm it read the event: ${(err as Error).message}`, { cause: err });
    }
    return { seq: undefined };
  }

  head(): number {
    return this.seq;
  }

  async roundTripMs(): Promise<number> {
    if (!this.nc) throw new Error('NATS is not connected');
    return this.nc.rtt();
  }

  isConnected(): boolean {
    return this.status.connected;
  }

  onStatus(listener: (status: BusStatus) => void): void {
    this.status.onStatus(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    await closeNats(this.nc);
    this.status.set(false, 'closed');
  }

  private setConnected(connected: boolean, reason: string, lostMessages = false): void {
    // Same reason as in subscribe(): the outage must lie between two numbers, or a client positioned
    // just before it would look covered.
    if (connected && lostMessages && !this.status.connected) this.seq++;
    this.status.set(connected, reason, lostMessages);
  }
}
