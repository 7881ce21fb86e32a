/**
 * The hub: streams from open to close, and fan-out. Each bus message is encoded once into an SSE
 * frame, kept in the replay buffer, and the same bytes are queued to every matching stream.
 * Who is interested in what is the interest table's (interest-table.ts); how a joining stream
 * catches up is the resumer's (replay/resume.ts).
 *
 * Overlapping patterns (`orders.*` and `orders.42`) each hold a bus subscription, and a bus delivers
 * a message once per matching subscription, as NATS does. The oldest matching interest is the one
 * that carries a message; the other copies are dropped, so each event gets one id and is sent once.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Bus, BusMessage, BusStatus, PublishOptions } from '../bus/bus.js';
import { HubMetrics } from '../metrics.js';
import { ReplayBuffer } from '../replay/buffer.js';
import { formatEventId } from '../replay/event-id.js';
import { composeHistory } from '../replay/history.js';
import { Resumer } from '../replay/resume.js';
import { CloseReason, SseConnection } from '../sse/connection.js';
import { checkEventType, encodeEventFrame, encodeRetry, withTopicField } from '../sse/frame.js';
import { SubjectSpace } from '../topics/subject.js';
import { drainStreams } from './drain.js';
import type { Interest } from './interest.js';
import { InterestTable } from './interest-table.js';

export interface OpenStream {
  readonly res: ServerResponse;
  /** Bus subject patterns, validated and prefixed. */
  readonly patterns: readonly string[];
  readonly lastEventId: string | undefined;
  /** For the connection log line. */
  readonly remote: string | undefined;
  /** When the credentials that opened the stream expire (epoch ms): the stream ends then. */
  readonly expiresAt?: number | undefined;
  /** `fields=topic`: every event frame carries a `topic:` line. */
  readonly withTopic?: boolean;
  /** `rewind=N`: start with the newest N retained events (ignored when `lastEventId` is set). */
  readonly rewind?: number;
}

/** One open stream as Hub.inspect() sees it. */
export interface StreamSample {
  readonly bufferedBytes: number;
  readonly ageMs: number;
}

export interface HubInspection {
  readonly streams: readonly StreamSample[];
  /** HUB_MAX_BUFFERED_BYTES: a stream past it is closed as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** The replay buffer's fill and its bounds (HUB_REPLAY_MAX_*). */
  readonly replay: { readonly events: number; readonly bytes: number; readonly maxEvents: number; readonly maxBytes: number; readonly maxAgeMs: number };
}

export class Hub {
  readonly metrics: HubMetrics;
  private readonly replay: ReplayBuffer;
  private readonly resumer: Resumer;
  private readonly connections = new Set<SseConnection>();
  private readonly interests: InterestTable;
  private readonly retryFrame: Buffer;
  /** A frame with its `topic:` line (the topic is the subject without the prefix). */
  private readonly topicFrame: (subject: string, frame: Buffer) => Buffer;
  private readonly heartbeat: NodeJS.Timeout;
  private lastSeq = 0;
  private connectionCounter = 0;
  private readonly idPrefix = randomBytes(3).toString('hex');
  private closing = false;

  constructor(
    private readonly config: Config,
    readonly bus: Bus,
    private readonly log: Logger,
  ) {
    const subjects = new SubjectSpace(config.subjectPrefix);
    this.topicFrame = (subject, frame) => withTopicField(subjects.toTopic(subject) ?? subject, frame);
    this.replay = new ReplayBuffer({ maxEvents: config.replayMaxEvents, maxBytes: config.replayMaxBytes, maxAgeMs: config.replayMaxAgeMs }, Date.now, this.topicFrame);
    this.retryFrame = encodeRetry(config.retryMs);
    this.interests = new InterestTable({ bus, maxLingering: config.maxLingeringSubscriptions, onMessage: (via, msg) => this.onMessage(via, msg) });
    this.metrics = new HubMetrics({
      connections: () => this.connections.size,
      busSubscriptions: () => this.interests.size,
      replayEvents: () => this.replay.size,
      replayBytes: () => this.replay.byteSize,
      busConnected: () => this.bus.isConnected(),
    });
    // The one place that asks what the bus offers: history to read back, ids shared by every node.
    this.resumer = new Resumer({
      history: composeHistory({
        replay: this.replay,
        bus: bus.history?.bind(bus),
        busTail: bus.tail?.bind(bus),
        frameFor: (msg, withTopic) => this.frameFor(msg, withTopic),
        maxBusEvents: config.historyMaxEvents,
      }),
      clusterWideIds: bus.clusterWideIds,
      epoch: () => bus.epoch,
      metrics: this.metrics,
      log,
    });
    this.heartbeat = setInterval(() => this.beat(), config.heartbeatMs);
    this.heartbeat.unref();
    if (!bus.coverageSurvivesDisconnect) bus.onStatus((status) => this.onBusStatus(status));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get subscriptionCount(): number {
    return this.interests.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get isReady(): boolean {
    return !this.closing && this.bus.isConnected();
  }

  /**
   * A read-only look at the open streams and the replay buffer, for the admin listener's
   * /debug/stats (src/admin/stats.ts): one walk over the connections, nothing is changed.
   */
  inspect(now = Date.now()): HubInspection {
    const streams: StreamSample[] = [];
    for (const conn of this.connections) streams.push({ bufferedBytes: conn.bufferedBytes, ageMs: now - conn.openedAt });
    return {
      streams,
      maxBufferedBytes: this.config.maxBufferedBytes,
      replay: {
        events: this.replay.size,
        bytes: this.replay.byteSize,
        maxEvents: this.config.replayMaxEvents,
        maxBytes: this.config.replayMaxBytes,
        maxAgeMs: this.config.replayMaxAgeMs,
      },
    };
  }

  /**
   * Start an event stream on `res`. Head and retry line leave in this turn of the event loop,
   * together with the replay and position frame when the subscription is already active.
   */
  async open({ res, patterns, lastEventId, remote, expiresAt, withTopic = false, rewind = 0 }: OpenStream): Promise<void> {
    const conn = new SseConnection(`${this.idPrefix}-${++this.connectionCounter}`, res, patterns, this.config.maxBufferedBytes, this.retryFrame, withTopic);
    this.connections.add(conn);
    this.metrics.connectionsOpened.inc();
    this.log.info({ conn: conn.id, remote, topics: patterns, lastEventId }, 'stream opened');

    const interests = patterns.map((pattern) => this.interests.acquire(pattern));
    conn.signal.addEventListener('abort', () => this.detach(conn, interests), { once: true });
    // ±10% jitter so streams opened together do not all end (and reconnect) together.
    if (this.config.maxConnectionAgeMs > 0) conn.closeAt(Date.now() + this.config.maxConnectionAgeMs * (0.9 + Math.random() * 0.2), CloseReason.MaxAge);
    if (expiresAt !== undefined) conn.closeAt(expiresAt, CloseReason.TokenExpired);

    try {
      await Promise.all(interests.map((interest) => interest.ready));
    } catch (err) {
      this.log.warn({ err, conn: conn.id }, 'bus subscription failed; closing stream');
      conn.close(CloseReason.BusUnavailable);
      return;
    }
    if (conn.closed) return;
    this.attach(conn, interests, lastEventId, rewind);
  }

  /**
   * HTTP publish: the bus numbers the event when it can; core NATS cannot (then `id` is undefined).
   * A retry JetStream recognises by its `msgId` gets the first copy's id and is not counted again.
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<{ id: string | undefined }> {
    const { seq, duplicate } = await this.bus.publish(subject, data, options);
    if (!duplicate) this.metrics.eventsPublished.inc();
    return { id: seq === undefined ? undefined : formatEventId(this.bus.epoch, seq) };
  }

  /**
   * Stop taking streams (and answering ready), end the open ones spread over HUB_DRAIN_WINDOW_MS
   * (see drain.ts), then release the bus.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await drainStreams([...this.connections], this.config.drainWindowMs);
    clearInterval(this.heartbeat);
    this.interests.dropAll();
    await this.bus.close();
  }

  // --- connection lifecycle -------------------------------------------------------------------

  /**
   * Runs synchronously once every interest is active: join the live fan-out and catch up (see
   * replay/resume.ts). No bus message can arrive in between, so nothing is lost or repeated.
   */
  private attach(conn: SseConnection, interests: readonly Interest[], lastEventId: string | undefined, rewind: number): void {
    const position = this.bus.head();
    for (const interest of interests) interest.joined(conn);
    this.resumer.start(conn, lastEventId, position, Math.max(...interests.map((interest) => interest.coveredSince)), rewind);
  }

  private detach(conn: SseConnection, interests: readonly Interest[]): void {
    this.connections.delete(conn);
    for (const interest of interests) {
      interest.left(conn);
      if (interest.idle) this.interests.retire(interest, this.closing ? 0 : this.config.interestLingerMs);
    }
    const reason = conn.closeReason ?? CloseReason.ClientClosed;
    this.metrics.connectionsClosed.inc({ reason });
    if (reason === CloseReason.SlowConsumer) this.metrics.slowConsumers.inc();
    this.log.info(
      { conn: conn.id, reason, durationMs: Date.now() - conn.openedAt, delivered: conn.delivered, bytes: conn.writer.bytesWritten },
      'stream closed',
    );
  }

  private beat(): void {
    for (const conn of this.connections) conn.heartbeat();
    this.replay.trim();
  }

  // --- fan-out ----------------------------------------------------------------------------------

  private onMessage(via: Interest, msg: BusMessage): void {
    const matches = this.interests.match(msg.subject);
    for (const interest of matches) if (interest.order < via.order) return; // an older subscription carries it
    if (!matches.includes(via) || msg.seq <= this.lastSeq) return;
    this.lastSeq = msg.seq;
    const receivedAt = performance.now();

    const frame = this.frameFor(msg);
    if (!frame) return;
    const buffered = this.replay.append(msg.seq, msg.subject, frame);
    this.metrics.eventsReceived.inc();

    let delivered = 0;
    let bytes = 0;
    // The `topic:` variant is encoded once, by the buffer, when the first stream that asked for it is met.
    for (const interest of matches) {
      for (const conn of interest.connections) {
        const bytesOut = conn.withTopic ? this.replay.withTopic(buffered) : frame;
        if (conn.deliver(msg.seq, bytesOut)) {
          delivered++;
          bytes += bytesOut.length;
        }
      }
    }
    if (delivered > 0) {
      this.metrics.eventsDelivered.inc(delivered);
      this.metrics.bytesWritten.inc(bytes);
      // Each writer flushes from a microtask queued when it got its first frame of this turn, so one
      // queued now runs after all of them: the frames have been written (or wait on backpressure).
      queueMicrotask(() => this.metrics.publishToWrite.observe((performance.now() - receivedAt) / 1000));
    }
  }

  /** The one encoding of a bus message (with its `topic:` line when asked), or undefined when its event type may not be sent. */
  private frameFor(msg: BusMessage, withTopic = false): Buffer | undefined {
    const eventType = msg.eventType;
    if (eventType !== undefined && checkEventType(eventType, this.config.maxEventTypeLength)) {
      this.metrics.eventsRejected.inc();
      return undefined;
    }
    const frame = encodeEventFrame(formatEventId(this.bus.epoch, msg.seq), eventType, msg.data);
    return withTopic ? this.topicFrame(msg.subject, frame) : frame;
  }

  /** Only for a bus whose coverage breaks when it is away (core NATS). */
  private onBusStatus(status: BusStatus): void {
    if (status.type === 'disconnected') return this.interests.coverageLost();
    const head = this.bus.head();
    this.interests.coveredFrom(head);
    if (!status.lostMessages) return;
    for (const conn of this.connections) if (conn.joined) this.resumer.resetAfterLoss(conn, head);
  }
}
