/**
 * The bus contract: subscribe to a subject pattern, publish to a subject.
 * Two implementations pass one behavioural suite (test/integration/bus.contract.test.ts):
 * the embedded in-process bus and core NATS.
 */

/** One message as a bus delivers it to one subscription. */
export interface BusMessage {
  /** Full subject, prefix included: `sse.orders.42`. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** From the `Sse-Event` header; undefined means the default type. */
  readonly eventType: string | undefined;
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
}

/**
 * `connected` with `lostMessages: true` means messages may have been published and not delivered
 * while the bus was away (core NATS): the hub must tell every open stream to reset.
 */
export type BusStatus = { type: 'connected'; lostMessages: boolean } | { type: 'disconnected'; reason: string };

export interface Bus {
  readonly kind: 'memory' | 'nats';
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
  publish(subject: string, data: Uint8Array, eventType?: string): Promise<PublishResult>;
  /** The highest seq delivered so far (0 before any). */
  head(): number;
  isConnected(): boolean;
  onStatus(listener: (status: BusStatus) => void): void;
  close(): Promise<void>;
}

/** The NATS message header that carries the SSE event type. */
export const EVENT_TYPE_HEADER = 'Sse-Event';
