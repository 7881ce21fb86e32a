/**
 * The bus contract: subscribe to a subject pattern, publish to a subject, and what the bus can tell
 * about its ids and its past. Three implementations: the embedded in-process bus (memory.ts), core
 * NATS (nats.ts) and JetStream (jetstream.ts). test/integration/bus-contract.test.ts states the
 * behaviour every bus must have.
 */

/** One message as a bus delivers it to one subscription. */
export interface BusMessage {
  /** Full subject, prefix included: `sse.orders.42`. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** From the `Sse-Event` header; undefined means the default type. */
  readonly eventType: string | undefined;
  /**
   * What the NATS wire showed of its headers, for the poison rules (nats-message.ts): the size of
   * the block, how many `Sse-Event` values it held, and whether it could be parsed at all (those two
   * parse it, on first read). Absent on the embedded bus and for a message without headers.
   */
  readonly headers?: { readonly bytes: number; readonly eventTypes: number; readonly unreadable: boolean } | undefined;
  /**
   * Position in this bus's order of events. Strictly increasing across every message this node
   * receives, so the hub can use it as the event id (with `Bus.epoch`).
   */
  readonly seq: number;
}

export type MessageHandler = (msg: BusMessage) => void;

export interface BusSubscription {
  readonly pattern: string;
  unsubscribe(): void;
}

export interface PublishResult {
  /** The id-sequence the event got, when this node can know it at publish time. */
  readonly seq: number | undefined;
  /** True when the bus already held an event under the same `msgId` (JetStream): `seq` is that event's. */
  readonly duplicate?: boolean;
}

/**
 * `connected` with `lostMessages: true` means messages may have been published and not delivered
 * while the bus was away (core NATS): the hub must tell every open stream to reset.
 */
export type BusStatus = { type: 'connected'; lostMessages: boolean } | { type: 'disconnected'; reason: string };

/** What a bus can give back of its past, for a resume the replay buffer cannot serve. */
export type HistoryResult =
  | { readonly complete: true; readonly messages: readonly BusMessage[] }
  | { readonly complete: false; readonly reason: 'history-gone' | 'too-far-behind' };

export interface PublishOptions {
  /** Sets the SSE event type (`Sse-Event` header); undefined means `message`. */
  readonly eventType?: string | undefined;
  /** De-duplication key (`Nats-Msg-Id`): JetStream stores one event per key within its window. */
  readonly msgId?: string | undefined;
}

/**
 * Request/reply between hub nodes (src/control/ builds the control channel on it), apart from event
 * delivery: nothing sent here is an event, gets a seq or is kept. NATS request/reply on a NATS bus;
 * within the process on the embedded bus, which has one node.
 */
export interface ControlTransport {
  /** Answer every request sent to `subject` with what `handler` returns; the returned function stops. */
  serve(subject: string, handler: (request: Uint8Array) => Promise<Uint8Array>): () => void;
  /** The one answer of whoever serves `subject`, or undefined when nobody answers within `timeoutMs`. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined>;
  /**
   * Send `data` to every server of `subject` and collect their answers, until `enough(answers)` says
   * so or `timeoutMs` passes, whichever comes first.
   */
  gather(subject: string, data: Uint8Array, timeoutMs: number, enough: (answers: readonly Uint8Array[]) => boolean): Promise<Uint8Array[]>;
  /** Send `data` to every server of `subject` and expect no answer (heartbeats). */
  announce(subject: string, data: Uint8Array): void;
}

export interface Bus {
  readonly kind: 'memory' | 'nats' | 'jetstream';
  /** The control channel's transport (see ControlTransport). */
  readonly control: ControlTransport;
  /**
   * True when a subscription still gets every message after the bus was away (JetStream redelivers
   * from where it stopped; the embedded bus is never away), so coverage does not break on a
   * disconnect. This is not persistence: the embedded bus keeps nothing.
   */
  readonly coverageSurvivesDisconnect: boolean;
  /**
   * True when every node numbers events alike (JetStream stream sequence): an id ahead of this
   * node's head is a real event this node has not received yet, not an unknown one.
   */
  readonly clusterWideIds: boolean;
  /**
   * Names the sequence space of `seq`: ids from another epoch (another process, for node-local
   * sequences) are unknown here.
   */
  readonly epoch: string;
  /**
   * Subscribe; resolves once the subscription is active, that is, once every message published
   * afterwards with a seq above the returned `since` will be delivered to `onMessage`.
   */
  subscribe(pattern: string, onMessage: MessageHandler): Promise<{ subscription: BusSubscription; since: number }>;
  /**
   * Fails with a BusPublishError (src/errors.ts) whose `outcome` says whether the message may have
   * been kept: `not-published` only when it certainly was not.
   */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishResult>;
  /**
   * The messages with seq in (afterSeq, upToSeq] on subjects matching any of `patterns`, oldest
   * first, at most `limit` of them; only buses that keep history (JetStream) have it.
   */
  history?(afterSeq: number, upToSeq: number, patterns: readonly string[], limit: number): Promise<HistoryResult>;
  /**
   * The newest `count` messages with seq <= upToSeq on subjects matching any of `patterns`, oldest
   * first (fewer when fewer are kept): the backlog of `rewind=N`; only buses that keep history have it.
   */
  tail?(upToSeq: number, patterns: readonly string[], count: number): Promise<readonly BusMessage[]>;
  /** The highest seq delivered so far (0 before any). */
  head(): number;
  /** A round trip to the bus server in ms (a NATS PING); absent on the embedded bus, which has none. */
  roundTripMs?(): Promise<number>;
  isConnected(): boolean;
  onStatus(listener: (status: BusStatus) => void): void;
  close(): Promise<void>;
}

/** The NATS message header that carries the SSE event type. */
export const EVENT_TYPE_HEADER = 'Sse-Event';
/** The NATS header JetStream de-duplicates on. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
