/**
 * The hub: who is interested in what, and fan-out. Each bus message is encoded once into an SSE
 * frame, kept in the replay buffer, and the same bytes are queued to every matching stream.
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
import { PatternIndex } from '../bus/pattern-index.js';
import { HubMetrics } from '../metrics.js';
import { ReplayBuffer } from '../replay/buffer.js';
import { formatEventId } from '../replay/event-id.js';
import { planResume, ResetReason, type ResumePlan } from '../replay/resume.js';
import { CloseReason, SseConnection } from '../sse/connection.js';
import { HEARTBEAT_FRAME, HubEventType, checkEventType, encodeEventFrame, encodeFrame, encodeRetry } from '../sse/frame.js';
import { drainStreams } from './drain.js';
import { Interest } from './interest.js';

export interface OpenStream {
  readonly res: ServerResponse;
  /** Bus subject patterns, validated and prefixed. */
  readonly patterns: readonly string[];
  readonly lastEventId: string | undefined;
  /** For the connection log line. */
  readonly remote: string | undefined;
  /** When the credentials that opened the stream expire (epoch ms): the stream ends then. */
  readonly expiresAt?: number | undefined;
}

// setTimeout holds at most 2^31-1 ms (~24.8 days); a later deadline is re-armed when that passes.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Hub {
  readonly metrics: HubMetrics;
  private readonly replay: ReplayBuffer;
  private readonly connections = new Set<SseConnection>();
  private readonly interests = new Map<string, Interest>();
  private readonly index = new PatternIndex<Interest>();
  /** Interests with no connection left, oldest first, waiting out their linger period. */
  private readonly lingering = new Set<Interest>();
  private readonly retryFrame: Buffer;
  private readonly heartbeat: NodeJS.Timeout;
  private interestOrder = 0;
  private lastSeq = 0;
  private connectionCounter = 0;
  private readonly idPrefix = randomBytes(3).toString('hex');
  private closing = false;

  constructor(
    private readonly config: Config,
    readonly bus: Bus,
    private readonly log: Logger,
  ) {
    this.replay = new ReplayBuffer({ maxEvents: config.replayMaxEvents, maxBytes: config.replayMaxBytes, maxAgeMs: config.replayMaxAgeMs });
    this.retryFrame = encodeRetry(config.retryMs);
    this.metrics = new HubMetrics({
      connections: () => this.connections.size,
      busSubscriptions: () => this.interests.size,
      replayEvents: () => this.replay.size,
      replayBytes: () => this.replay.byteSize,
      busConnected: () => this.bus.isConnected(),
    });
    this.heartbeat = setInterval(() => this.beat(), config.heartbeatMs);
    this.heartbeat.unref();
    bus.onStatus((status) => this.onBusStatus(status));
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
   * Start an event stream on `res`. Head and retry line leave in this turn of the event loop,
   * together with the replay and position frame when the subscription is already active.
   */
  async open({ res, patterns, lastEventId, remote, expiresAt }: OpenStream): Promise<void> {
    const conn = new SseConnection(`${this.idPrefix}-${++this.connectionCounter}`, res, patterns, this.config.maxBufferedBytes, this.retryFrame);
    this.connections.add(conn);
    this.metrics.connectionsOpened.inc();
    this.log.info({ conn: conn.id, remote, topics: patterns, lastEventId }, 'stream opened');

    const interests = patterns.map((pattern) => this.acquire(pattern));
    const maxAge = this.config.maxConnectionAgeMs > 0 ? this.startAgeLimit(conn) : undefined;
    const expiry = expiresAt === undefined ? undefined : this.startExpiry(conn, expiresAt);
    conn.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(maxAge);
        expiry?.cancel();
        this.detach(conn, interests);
      },
      { once: true },
    );

    try {
      await Promise.all(interests.map((interest) => interest.ready));
    } catch (err) {
      this.log.warn({ err, conn: conn.id }, 'bus subscription failed; closing stream');
      conn.close(CloseReason.Shutdown);
      return;
    }
    if (conn.closed) return;
    this.attach(conn, interests, lastEventId);
  }

  /** HTTP publish: the bus numbers the event when it can; core NATS cannot (then `id` is undefined). */
  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<{ id: string | undefined }> {
    const { seq } = await this.bus.publish(subject, data, options);
    this.metrics.eventsPublished.inc();
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
    for (const interest of [...this.interests.values()]) this.drop(interest);
    await this.bus.close();
  }

  // --- connection lifecycle -------------------------------------------------------------------

  /**
   * Runs synchronously once every interest is active: decide how to catch up, queue the replay, join
   * the live fan-out. No bus message can arrive in between, so nothing is lost or repeated. When the
   * history must come from the bus (asynchronously), live events are held until it has been written.
   */
  private attach(conn: SseConnection, interests: readonly Interest[], lastEventId: string | undefined): void {
    const position = this.bus.head();
    for (const interest of interests) {
      interest.pending--;
      interest.connections.add(conn);
    }
    conn.attached = true;
    if (lastEventId === undefined) return this.sendOpen(conn, position);

    const plan: ResumePlan = planResume(lastEventId, {
      epoch: this.bus.epoch,
      position,
      sharedIds: this.bus.clusterWideIds,
      busHasHistory: this.bus.history !== undefined,
      coveredSince: Math.max(...interests.map((interest) => interest.coveredSince)),
      replay: this.replay,
      patterns: conn.patterns,
    });
    switch (plan.kind) {
      case 'replay':
        this.sendReplay(conn, plan.frames);
        return this.sendOpen(conn, position);
      case 'ahead':
        conn.lastSeq = plan.after;
        return this.sendOpen(conn, plan.after);
      case 'reset':
        this.sendReset(conn, plan.reason, lastEventId, position);
        return this.sendOpen(conn, position);
      case 'history':
        conn.hold();
        void this.catchUpFromBus(conn, lastEventId, plan.after, position);
    }
  }

  /** Read (after, position] back from the bus, write it, then go live with what was held meanwhile. */
  private async catchUpFromBus(conn: SseConnection, lastEventId: string, after: number, position: number): Promise<void> {
    try {
      const history = await this.bus.history!(after, position, conn.patterns, this.config.historyMaxEvents);
      if (conn.closed) return;
      if (history.complete) {
        const frames: Buffer[] = [];
        for (const msg of history.messages) {
          const frame = this.frameFor(msg);
          if (frame) frames.push(frame);
        }
        this.sendReplay(conn, frames);
      } else this.sendReset(conn, history.reason, lastEventId, position);
      this.sendOpen(conn, position);
      conn.release();
    } catch (err) {
      // The client keeps its Last-Event-ID and tries again after its retry delay: no reset needed.
      this.log.warn({ err, conn: conn.id }, 'reading history from the bus failed; closing the stream');
      conn.close(CloseReason.BusUnavailable);
    }
  }

  private sendReplay(conn: SseConnection, frames: readonly Buffer[]): void {
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    // A replay is bounded (replay buffer, HUB_HISTORY_MAX_EVENTS) and shares its frames: let it through
    // the slow-consumer limit, which is there for live events that pile up.
    conn.writer.allow(bytes);
    for (const frame of frames) conn.send(frame);
    conn.delivered += frames.length;
    this.metrics.replaysServed.inc();
    this.metrics.eventsDelivered.inc(frames.length);
    this.metrics.bytesWritten.inc(bytes);
  }

  /**
   * Always after any replay: its id is the position, so a reconnect from here (even by a client that
   * got no event at all) resumes exactly; it also tells the client it is live now.
   */
  private sendOpen(conn: SseConnection, position: number): void {
    conn.lastSeq = Math.max(conn.lastSeq, position);
    conn.send(encodeFrame({ id: formatEventId(this.bus.epoch, position), event: HubEventType.Open, data: '{}' }));
  }

  private sendReset(conn: SseConnection, reason: ResetReason, lastEventId: string, position: number): void {
    const data = JSON.stringify({ reason, lastEventId });
    // The reset carries the current position as its id: a reconnect after it resumes from here.
    conn.send(encodeFrame({ id: formatEventId(this.bus.epoch, position), event: HubEventType.Reset, data }));
    conn.lastSeq = Math.max(conn.lastSeq, position);
    this.metrics.resetsSent.inc({ reason });
  }

  private detach(conn: SseConnection, interests: readonly Interest[]): void {
    this.connections.delete(conn);
    for (const interest of interests) {
      if (!interest.connections.delete(conn)) interest.pending--;
      if (interest.idle) this.release(interest);
    }
    const reason = conn.closeReason ?? CloseReason.ClientClosed;
    this.metrics.connectionsClosed.inc({ reason });
    if (reason === CloseReason.SlowConsumer) this.metrics.slowConsumers.inc();
    this.log.info(
      { conn: conn.id, reason, durationMs: Date.now() - conn.openedAt, delivered: conn.delivered, bytes: conn.writer.bytesWritten },
      'stream closed',
    );
  }

  private startAgeLimit(conn: SseConnection): NodeJS.Timeout {
    // ±10% jitter so streams opened together do not all end (and reconnect) together.
    const age = this.config.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
    const timer = setTimeout(() => conn.close(CloseReason.MaxAge), age);
    timer.unref();
    return timer;
  }

  private startExpiry(conn: SseConnection, expiresAt: number): { cancel(): void } {
    let timer: NodeJS.Timeout;
    // Always through a timer, even when already due: open() registers its teardown listener first.
    const arm = (): void => {
      const fire = (): void => (Date.now() >= expiresAt ? conn.close(CloseReason.TokenExpired) : arm());
      timer = setTimeout(fire, Math.max(0, Math.min(expiresAt - Date.now(), MAX_TIMER_MS)));
      timer.unref();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  }

  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.writer.wroteSinceTick) conn.send(HEARTBEAT_FRAME);
      conn.writer.wroteSinceTick = false;
    }
    this.replay.trim();
  }

  // --- interest and bus subscriptions -----------------------------------------------------------

  private acquire(pattern: string): Interest {
    let interest = this.interests.get(pattern);
    if (interest) {
      this.lingering.delete(interest);
      clearTimeout(interest.lingerTimer);
      interest.lingerTimer = undefined;
    } else {
      interest = new Interest(pattern, ++this.interestOrder);
      this.interests.set(pattern, interest);
      interest.ready = this.subscribe(interest);
    }
    interest.pending++;
    return interest;
  }

  private async subscribe(interest: Interest): Promise<void> {
    const { subscription, since } = await this.bus.subscribe(interest.pattern, (msg) => this.onMessage(interest, msg));
    if (interest.released) return subscription.unsubscribe();
    interest.subscription = subscription;
    interest.coveredSince = this.bus.isConnected() ? since : Number.POSITIVE_INFINITY;
    this.index.add(interest.pattern, interest);
  }

  private release(interest: Interest): void {
    if (this.closing || this.config.interestLingerMs === 0) return this.drop(interest);
    this.lingering.add(interest);
    interest.lingerTimer = setTimeout(() => this.drop(interest), this.config.interestLingerMs);
    interest.lingerTimer.unref();
    if (this.lingering.size > this.config.maxLingeringSubscriptions) {
      const oldest = this.lingering.values().next().value;
      if (oldest) this.drop(oldest);
    }
  }

  private drop(interest: Interest): void {
    if (interest.released) return;
    interest.released = true;
    clearTimeout(interest.lingerTimer);
    this.lingering.delete(interest);
    this.interests.delete(interest.pattern);
    this.index.remove(interest.pattern, interest);
    interest.subscription?.unsubscribe();
  }

  // --- fan-out ----------------------------------------------------------------------------------

  private onMessage(via: Interest, msg: BusMessage): void {
    const matches = this.index.match(msg.subject);
    for (const interest of matches) if (interest.order < via.order) return; // an older subscription carries it
    if (!matches.includes(via) || msg.seq <= this.lastSeq) return;
    this.lastSeq = msg.seq;
    const receivedAt = performance.now();

    const frame = this.frameFor(msg);
    if (!frame) return;
    this.replay.append(msg.seq, msg.subject, frame);
    this.metrics.eventsReceived.inc();

    let delivered = 0;
    for (const interest of matches) {
      for (const conn of interest.connections) if (conn.deliver(msg.seq, frame)) delivered++;
    }
    if (delivered > 0) {
      this.metrics.eventsDelivered.inc(delivered);
      this.metrics.bytesWritten.inc(delivered * frame.length);
      // Each writer flushes from a microtask queued when it got its first frame of this turn, so one
      // queued now runs after all of them: the frames have been written (or wait on backpressure).
      queueMicrotask(() => this.metrics.publishToWrite.observe((performance.now() - receivedAt) / 1000));
    }
  }

  /** The one encoding of a bus message, or undefined when its event type may not be sent. */
  private frameFor(msg: BusMessage): Buffer | undefined {
    const eventType = msg.eventType;
    if (eventType !== undefined && checkEventType(eventType, this.config.maxEventTypeLength)) {
      this.metrics.eventsRejected.inc();
      return undefined;
    }
    return encodeEventFrame(formatEventId(this.bus.epoch, msg.seq), eventType, msg.data);
  }

  private onBusStatus(status: BusStatus): void {
    // A bus whose coverage survives a disconnect (JetStream redelivers what it missed) needs nothing here.
    if (this.bus.coverageSurvivesDisconnect) return;
    if (status.type === 'disconnected') {
      for (const interest of this.interests.values()) interest.coveredSince = Number.POSITIVE_INFINITY;
      return;
    }
    const head = this.bus.head();
    for (const interest of this.interests.values()) if (interest.subscription) interest.coveredSince = head;
    if (!status.lostMessages) return;
    for (const conn of this.connections) {
      if (conn.attached) this.sendReset(conn, ResetReason.BusReconnected, formatEventId(this.bus.epoch, conn.lastSeq), head);
    }
  }
}
