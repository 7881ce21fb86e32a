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
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { StreamCredential } from '../auth/access.js';
import type { Logger } from '../log.js';
import type { Bus, BusMessage, BusStatus, PublishOptions } from '../bus/bus.js';
import { poisonOf } from '../bus/nats-message.js';
import { HubMetrics } from '../metrics.js';
import { ReplayBuffer } from '../replay/buffer.js';
import { ErrorCode, HubError } from '../errors.js';
import { formatEventId } from '../replay/event-id.js';
import { composeHistory } from '../replay/history.js';
import { Resumer } from '../replay/resume.js';
import { CloseReason, SseConnection, type StreamSocket } from '../sse/connection.js';
import { encodeEventFrame, encodeFrame, encodeRetry, HubEventType, withTopicField } from '../sse/frame.js';
import { SubjectSpace } from '../topics/subject.js';
import { drainStreams } from './drain.js';
import type { Interest } from './interest.js';
import { InterestTable } from './interest-table.js';
import { LiveStream } from './live-stream.js';
import { planTopicChange } from './topic-set.js';

export interface OpenStream {
  /** The accepted stream's socket, out of the HTTP server, and the head it still owes. */
  readonly stream: StreamSocket;
  /** Bus subject patterns, validated and prefixed. */
  readonly patterns: readonly string[];
  readonly lastEventId: string | undefined;
  /** For the connection log line. */
  readonly remote: string | undefined;
  /** When the credentials that opened the stream expire (epoch ms): the stream ends then. */
  readonly expiresAt?: number | undefined;
  /** What let the stream in, kept so a reload can end it when that no longer holds (endWhere). */
  readonly credential?: StreamCredential | undefined;
  /** The credential's subject (`sub`): POST /users/<sub>/topics reaches the stream by it. */
  readonly user?: string | undefined;
  /** `fields=topic`: every event frame carries a `topic:` line. */
  readonly withTopic?: boolean;
  /** `rewind=N`: start with the newest N retained events (ignored when `lastEventId` is set). */
  readonly rewind?: number;
}

/** A topic change applied: the stream's topics now (prefix-relative) and the id of its position. */
export interface TopicChange {
  readonly topics: readonly string[];
  readonly id: string;
}

/** Told of every stream of a named user as its topics come and go (join/leave events). */
export interface StreamWatcher {
  added(user: string, patterns: readonly string[]): void;
  removed(user: string, patterns: readonly string[]): void;
}

const NO_WATCHER: StreamWatcher = { added: () => {}, removed: () => {} };

/** The hub's own event types that may travel the bus (the presence events), unlike publishers' `hub.*`. */
const BUS_HUB_EVENTS: ReadonlySet<string> = new Set([HubEventType.Join, HubEventType.Leave]);

/** One node's streams on a literal subject, for GET /presence. */
export interface LocalPresence {
  readonly streams: number;
  /** Streams per user; anonymous streams count in `streams` only. */
  readonly users: ReadonlyMap<string, number>;
}

/** What an HTTP publish learns: the event's id, when the bus numbers events at publish time. */
export interface PublishedEvent {
  readonly id: string | undefined;
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
  /** Every open stream by id, and by user for the streams whose credential named one. */
  private readonly streams = new Map<string, LiveStream>();
  private readonly byUser = new Map<string, Set<LiveStream>>();
  private readonly subjects: SubjectSpace;
  private watcher: StreamWatcher = NO_WATCHER;
  private readonly interests: InterestTable;
  private retryFrame: Buffer;
  private heartbeat: NodeJS.Timeout;
  /** The credential of each stream that has one (Permit.credential), for endWhere. */
  private readonly credentials = new Map<SseConnection, StreamCredential>();
  /** A frame with its `topic:` line (the topic is the subject without the prefix). */
  private readonly topicFrame: (subject: string, frame: Buffer) => Buffer;
  private lastSeq = 0;
  private connectionCounter = 0;
  /** This node's name on the control channel, and the first part of its stream ids. */
  readonly node = randomBytes(6).toString('hex');
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
    this.subjects = new SubjectSpace(config.subjectPrefix);
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
      openData: (conn) => this.streams.get(conn.id)?.opened() ?? '{}',
    });
    this.heartbeat = setInterval(() => this.beat(), config.heartbeatMs);
    this.heartbeat.unref();
    if (!bus.coverageSurvivesDisconnect) bus.onStatus((status) => this.onBusStatus(status));
  }

  /** Set once at start when join/leave events are on (HUB_PRESENCE_EVENTS). */
  watch(watcher: StreamWatcher): void {
    this.watcher = watcher;
  }

  /** Publishes a hub event (hub.join, hub.leave) on the bus, numbered like any event. */
  async publishHubEvent(subject: string, data: Uint8Array, eventType: string): Promise<void> {
    await this.bus.publish(subject, data, { eventType });
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
   * Start an event stream on `stream`. Head and retry line leave in this turn of the event loop,
   * together with the replay and position frame when the subscription is already active.
   */
  async open({ stream: socket, patterns, lastEventId, remote, expiresAt, credential, user, withTopic = false, rewind = 0 }: OpenStream): Promise<void> {
    const conn = new SseConnection(`${this.node}.${++this.connectionCounter}`, socket, patterns, this.config.maxBufferedBytes, this.retryFrame, withTopic);
    const stream = new LiveStream(conn, user);
    this.connections.add(conn);
    if (credential !== undefined) this.credentials.set(conn, credential);
    this.register(stream);
    this.metrics.connectionsOpened.inc();
    this.log.info({ conn: conn.id, remote, topics: patterns, lastEventId, user }, 'stream opened');

    const interests = patterns.map((pattern) => this.interests.acquire(pattern));
    for (const interest of interests) stream.interests.set(interest.pattern, interest);
    if (user !== undefined) this.watcher.added(user, patterns);
    conn.signal.addEventListener('abort', () => this.detach(stream), { once: true });
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
  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishedEvent> {
    const { seq, duplicate } = await this.bus.publish(subject, data, options);
    if (!duplicate) this.metrics.eventsPublished.inc();
    return { id: seq === undefined ? undefined : formatEventId(this.bus.epoch, seq) };
  }

  /** Bytes accepted for the open streams and not yet handed to the kernel, all together (publish pacing). */
  unsentBytes(): number {
    let total = 0;
    for (const conn of this.connections) total += conn.bufferedBytes;
    return total;
  }

  // --- topic changes and presence (asked for over the control channel, src/control/) -------------

  /**
   * POST /streams/<id>/topics on the node that holds the stream: `add` and `remove` are topics,
   * checked and authorized at the node that took the request. A refusal changes nothing.
   */
  async changeStreamTopics(id: string, key: string, add: readonly string[], remove: readonly string[]): Promise<TopicChange | HubError> {
    const stream = this.streams.get(id);
    if (!stream) return streamGone(id);
    if (!stream.keyMatches(key)) return new HubError(ErrorCode.WrongStreamKey, `the key does not match stream ${id}`);
    return this.changeTopics(stream, add, remove);
  }

  /**
   * POST /users/<sub>/topics on one node: the change for every stream of `user` here. A stream the
   * change does not fit (no topic left, or more than HUB_MAX_TOPICS) stays as it was and is counted
   * in `unchanged`.
   */
  async changeUserTopics(user: string, add: readonly string[], remove: readonly string[]): Promise<{ streams: number; unchanged: number }> {
    const streams = [...(this.byUser.get(user) ?? [])];
    const results = await Promise.all(streams.map((stream) => this.changeTopics(stream, add, remove)));
    const changed = results.filter((result) => !(result instanceof HubError)).length;
    return { streams: changed, unchanged: results.length - changed };
  }

  /** Who here would get an event published on `subject` (literal, prefixed) now. */
  presence(subject: string): LocalPresence {
    // Overlapping patterns hold one stream in several interests: each stream counts once.
    const seen = new Set<SseConnection>();
    const users = new Map<string, number>();
    for (const interest of this.interests.match(subject)) {
      for (const conn of interest.connections) {
        if (seen.has(conn)) continue;
        seen.add(conn);
        const user = this.streams.get(conn.id)?.user;
        if (user !== undefined) users.set(user, (users.get(user) ?? 0) + 1);
      }
    }
    return { streams: seen.size, users };
  }

  /**
   * The change takes effect at one position: subscriptions for added patterns are made active
   * first (the stream still gets its old topics meanwhile), then, in one turn with no bus message
   * in between, the stream joins and leaves interests at the bus head and is told so with a
   * `hub.topics` event whose id is that head. Events up to it on kept topics were delivered already
   * (a live stream is written as messages arrive); events after it reach the new set only. Events of
   * an added topic at or before the position are not the stream's: a reconnect with that id and the
   * new topics resumes exactly from there.
   */
  private changeTopics(stream: LiveStream, add: readonly string[], remove: readonly string[]): Promise<TopicChange | HubError> {
    return stream.inTurn(async () => {
      // hub.open gives out the key, so a reader's change finds the stream live; a user's change
      // may reach it while it catches up, and waits for that.
      if (!(await stream.untilLive())) return streamGone(stream.id);
      const toPattern = (topic: string): string => this.subjects.toSubject(topic);
      const plan = planTopicChange(stream.patterns, add.map(toPattern), remove.map(toPattern), this.config.maxTopics);
      if (plan instanceof HubError) return plan;
      const { conn } = stream;
      const added = plan.added.map((pattern) => this.interests.acquire(pattern));
      try {
        await Promise.all(added.map((interest) => interest.ready));
      } catch (err) {
        for (const interest of added) this.leave(interest, conn);
        this.log.warn({ err, conn: conn.id }, 'bus subscription for a topic change failed');
        return new HubError(ErrorCode.BusUnavailable, 'the bus could not subscribe to the added topics; retry later');
      }
      if (conn.closed) {
        for (const interest of added) this.leave(interest, conn);
        return streamGone(stream.id);
      }
      // From here to the end, one turn: no bus message can arrive in between.
      const position = this.bus.head();
      for (const interest of added) {
        interest.joined(conn);
        stream.interests.set(interest.pattern, interest);
      }
      for (const pattern of plan.removed) {
        const interest = stream.interests.get(pattern)!;
        stream.interests.delete(pattern);
        this.leave(interest, conn);
      }
      if (stream.user !== undefined) {
        this.watcher.removed(stream.user, plan.removed);
        this.watcher.added(stream.user, plan.added);
      }
      conn.positionAt(position);
      const id = formatEventId(this.bus.epoch, position);
      const topics = stream.patterns.map((pattern) => this.subjects.toTopic(pattern)!);
      conn.send(encodeFrame({ id, event: HubEventType.Topics, data: JSON.stringify({ topics }) }));
      this.log.info({ conn: conn.id, topics, position: id }, 'stream topics changed');
      return { topics, id };
    });
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

  // --- reload (src/reload/) ---------------------------------------------------------------------

  /** The credentials of the open streams that have one, for a reload to check again. */
  streamCredentials(): IterableIterator<StreamCredential> {
    return this.credentials.values();
  }

  /** End every open stream whose credential `ends` picks, with `reason`; returns how many. */
  endWhere(ends: (credential: StreamCredential) => boolean, reason: CloseReason): number {
    let ended = 0;
    for (const [conn, credential] of [...this.credentials]) {
      if (!ends(credential)) continue;
      conn.close(reason);
      ended++;
    }
    return ended;
  }

  /** New HUB_HEARTBEAT_MS and HUB_RETRY_MS: the next beat follows the new interval, streams opened from now on get the new `retry:`. */
  retune(heartbeatMs: number, retryMs: number): void {
    this.retryFrame = encodeRetry(retryMs);
    if (this.closing) return; // close() has stopped the beat for good
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
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

  private detach(stream: LiveStream): void {
    const { conn } = stream;
    this.connections.delete(conn);
    this.credentials.delete(conn);
    this.unregister(stream);
    if (stream.user !== undefined) this.watcher.removed(stream.user, stream.patterns);
    for (const interest of stream.interests.values()) this.leave(interest, conn);
    const reason = conn.closeReason ?? CloseReason.ClientClosed;
    this.metrics.connectionsClosed.inc({ reason });
    if (reason === CloseReason.SlowConsumer) this.metrics.slowConsumers.inc();
    this.log.info(
      { conn: conn.id, reason, durationMs: Date.now() - conn.openedAt, delivered: conn.delivered, bytes: conn.writer.bytesWritten },
      'stream closed',
    );
  }

  /** `conn` is done with `interest` (it had joined or still waited); an idle interest lingers. */
  private leave(interest: Interest, conn: SseConnection): void {
    interest.left(conn);
    if (interest.idle) this.interests.retire(interest, this.closing ? 0 : this.config.interestLingerMs);
  }

  private register(stream: LiveStream): void {
    this.streams.set(stream.id, stream);
    if (stream.user === undefined) return;
    let streams = this.byUser.get(stream.user);
    if (!streams) this.byUser.set(stream.user, (streams = new Set()));
    streams.add(stream);
  }

  private unregister(stream: LiveStream): void {
    this.streams.delete(stream.id);
    if (stream.user === undefined) return;
    const streams = this.byUser.get(stream.user);
    streams?.delete(stream);
    if (streams?.size === 0) this.byUser.delete(stream.user);
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

  /**
   * The one encoding of a bus message (with its `topic:` line when asked), or undefined when the
   * poison rules drop it (bus/nats-message.ts).
   */
  private frameFor(msg: BusMessage, withTopic = false): Buffer | undefined {
    const poison = poisonOf(msg, this.config, BUS_HUB_EVENTS);
    if (poison?.drop) {
      this.metrics.eventsRejected.inc({ reason: poison.reason });
      return undefined;
    }
    if (poison) this.metrics.eventsRepaired.inc({ reason: poison.reason });
    const frame = encodeEventFrame(formatEventId(this.bus.epoch, msg.seq), msg.eventType, msg.data);
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

function streamGone(id: string): HubError {
  return new HubError(ErrorCode.StreamNotFound, `no open stream has the id ${JSON.stringify(id)}`);
}
