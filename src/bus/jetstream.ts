/**
 * JetStream bus: every event lives in one stream over `<prefix>.>`, and its stream sequence is its id,
 * so every replica gives the same event the same id and a client can resume on any of them.
 *
 * Its parts, in jetstream/: the stream (provisioning and epoch), the live feed (one ordered consumer,
 * dispatched locally), the history reader (what the replay buffer no longer holds), its reads
 * bounded and shared by resumes from the same point (shared-history.ts), and the tail reader (the
 * newest events, for `rewind=N`).
 */
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { BusPublishError } from '../errors.js';
import type { Bus, BusMessage, BusStatus, BusSubscription, HistoryResult, MessageHandler, PublishOptions, PublishResult } from './bus.js';
import { closeNats, connectNats, watchNats, type NatsBusConnectionOptions } from './nats-connection.js';
import { AckedPublisher } from './jetstream/publisher.js';
import { BusStatusReporter } from './status.js';
import { NatsControl } from './nats-control.js';
import { readHistory } from './jetstream/history.js';
import { readTail } from './jetstream/tail.js';
import { LiveFeed } from './jetstream/live.js';
import { SharedHistory } from './jetstream/shared-history.js';
import type { JetStreamSettings } from '../config.js';
import { provisionStream, streamEpoch } from './jetstream/stream.js';

export interface JetStreamBusOptions extends NatsBusConnectionOptions {
  /** The stream, its limits and the publish timeout, as configured (`HUB_JETSTREAM_*`). */
  readonly settings: JetStreamSettings;
}

export class JetStreamBus implements Bus {
  readonly kind = 'jetstream';
  readonly coverageSurvivesDisconnect = true;
  readonly clusterWideIds = true;
  private epochValue = '';
  private closing = false;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private publisher: AckedPublisher | undefined;
  private readonly live = new LiveFeed();
  /** Every history read goes through it: bounded, and shared by resumes from the same point. */
  private readonly sharedHistory: SharedHistory;
  private readonly status: BusStatusReporter;
  /** Resolves once the stream exists and the live consumer runs (retries until NATS is there). */
  private readonly ready: Promise<void>;
  readonly control: NatsControl;

  constructor(private readonly options: JetStreamBusOptions) {
    this.status = new BusStatusReporter(options.log);
    this.sharedHistory = new SharedHistory(async (request) => readHistory(this.js!, await this.manager(), options.settings.stream, request), options.settings.historyMaxConcurrentReads);
    // The control channel needs the connection only, not the stream.
    const connection = connectNats(options, 'ssehub-jetstream');
    connection.catch(() => {});
    this.control = new NatsControl(connection);
    this.ready = this.start(connection);
    this.ready.catch((err: unknown) => options.log.error({ err }, 'jetstream setup failed'));
  }

  get epoch(): string {
    return this.epochValue;
  }

  async subscribe(pattern: string, onMessage: MessageHandler): Promise<{ subscription: BusSubscription; since: number }> {
    await this.ready;
    // The live feed reaches it from the next message on; anything earlier is read back by history().
    return { subscription: this.live.add(pattern, onMessage), since: this.live.head };
  }

  /**
   * Resolves once JetStream stored the event (or found `msgId` already stored: then with the first
   * copy's seq). Fails with a BusPublishError that says whether the event may have been stored.
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const { nc, publisher } = this;
    // Refused at once when it cannot go; the publisher checks again when it sends, at the end of the turn.
    if (!this.status.connected || !nc || !publisher || nc.isClosed() || nc.isDraining()) throw new BusPublishError('not-published', 'NATS is not connected');
    return publisher.publish(subject, data, options);
  }

  async history(afterSeq: number, upToSeq: number, patterns: readonly string[], limit: number): Promise<HistoryResult> {
    await this.ready;
    return this.sharedHistory.get({ afterSeq, upToSeq, patterns, limit });
  }

  async tail(upToSeq: number, patterns: readonly string[], count: number): Promise<readonly BusMessage[]> {
    await this.ready;
    const jsm = await this.manager();
    return readTail(this.js!, jsm, this.options.settings.stream, { upToSeq, patterns, count });
  }

  head(): number {
    return this.live.head;
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
    this.live.stop();
    this.publisher?.close();
    await closeNats(this.nc);
    this.status.set(false, 'closed');
  }

  private async start(connection: Promise<NatsConnection>): Promise<void> {
    const nc = await connection;
    this.nc = nc;
    if (this.closing) return void nc.close();
    const info = await provisionStream(nc, this.options.settings, this.options.log, () => this.closing);
    this.epochValue = streamEpoch(info);
    this.js = nc.jetstream();
    this.publisher = new AckedPublisher(nc, this.options.settings.publishTimeoutMs, () => this.status.connected && !nc.isClosed() && !nc.isDraining());
    await this.live.start(this.js, this.options.settings, info.state.last_seq);
    void watchNats(
      nc,
      {
        disconnected: (reason) => this.status.set(false, reason),
        // The ordered consumer picks up after the last sequence it delivered: nothing was lost.
        reconnected: (reason) => this.status.set(true, reason),
      },
      this.options.log,
      () => this.closing,
    );
    this.status.set(true, `stream ${info.config.name} at seq ${info.state.last_seq}`);
  }

  private manager(): Promise<JetStreamManager> {
    if (!this.nc) throw new Error('NATS is not connected');
    return this.nc.jetstreamManager();
  }
}
