/**
 * A bus message on the NATS wire, both ways, for both NATS buses: the SSE event type travels in the
 * `Sse-Event` header and the de-duplication key in `Nats-Msg-Id`.
 */
import { headers, type MsgHdrs } from 'nats';
import { EVENT_TYPE_HEADER, MSG_ID_HEADER, type BusMessage, type PublishOptions } from './bus.js';

/** What a core NATS message and a JetStream message both carry. */
export interface NatsMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
}

/** `seq` is the bus's number for the message: node-local on core NATS, the stream sequence on JetStream. */
export function toBusMessage(msg: NatsMessage, seq: number): BusMessage {
  // get() answers '' for a missing header, and an empty type is the default one too.
  return { subject: msg.subject, data: msg.data, eventType: msg.headers?.get(EVENT_TYPE_HEADER) || undefined, seq };
}

/** The NATS headers that carry an event's type and de-duplication key, or undefined for none. */
export function natsHeaders({ eventType, msgId }: PublishOptions): MsgHdrs | undefined {
  if (eventType === undefined && msgId === undefined) return undefined;
  const h = headers();
  if (eventType !== undefined) h.set(EVENT_TYPE_HEADER, eventType);
  if (msgId !== undefined) h.set(MSG_ID_HEADER, msgId);
  return h;
}
