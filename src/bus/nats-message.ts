/**
 * A bus message on the NATS wire, both ways, for both NATS buses: the SSE event type travels in the
 * `Sse-Event` header and the de-duplication key in `Nats-Msg-Id`.
 *
 * And the rules for what arrives from NATS, which bypassed every check of `POST /publish` (a backend
 * publishing straight to NATS, or anything else that can publish there). docs/nats.md states them:
 * each poison message is dropped or made safe, counted with its reason, and never breaks a frame or a
 * stream. The hub applies them where it encodes a message (live and read back from history alike).
 */
import { isUtf8 } from 'node:buffer';
import { headers, type MsgHdrs } from 'nats';
import { EVENT_TYPE_HEADER, MSG_ID_HEADER, type BusMessage, type PublishOptions } from './bus.js';
import { checkEventType } from '../sse/frame.js';

/** What a core NATS message and a JetStream message both carry. */
export interface NatsMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
}

/**
 * nats.js v2 keeps the length of the header block it received on the message (`_msg.hdr`, -1 for
 * none), and a JetStream message wraps that message as `msg`. Neither is public API; the poison test
 * checks both on real messages, so a client upgrade that moves them fails there.
 */
interface ReceivedMsg {
  readonly _msg?: { readonly hdr?: number };
  readonly msg?: ReceivedMsg;
}

/** Bytes of the header block as received, without parsing it; undefined when the client does not say. */
export function headerBlockBytes(msg: NatsMessage): number | undefined {
  const received = (msg as ReceivedMsg).msg ?? (msg as ReceivedMsg);
  const hdr = received._msg?.hdr;
  return typeof hdr === 'number' ? Math.max(hdr, 0) : undefined;
}

interface ParsedHeaders {
  readonly eventType: string | undefined;
  readonly eventTypes: number;
  readonly unreadable: boolean;
}

function parseHeaders(msg: NatsMessage): ParsedHeaders {
  let h: MsgHdrs | undefined;
  try {
    // The client parses headers when first asked, and throws on a value with a lone CR or LF. Thrown
    // here, that would end its reader: the whole connection, every stream of this hub, for one message.
    h = msg.headers;
  } catch {
    return { eventType: undefined, eventTypes: 0, unreadable: true };
  }
  // get() answers '' for a missing header, and an empty type is the default one too.
  return { eventType: h?.get(EVENT_TYPE_HEADER) || undefined, eventTypes: h?.values(EVENT_TYPE_HEADER).length ?? 0, unreadable: false };
}

/**
 * `seq` is the bus's number for the message: node-local on core NATS, the stream sequence on JetStream.
 * Headers are parsed on first use, that is after the poison rules have looked at their size: the
 * client's parser takes time quadratic in their number (measured: 4,000 headers, 70 KB, take seconds).
 */
export function toBusMessage(msg: NatsMessage, seq: number): BusMessage {
  const { subject, data } = msg;
  const bytes = headerBlockBytes(msg) ?? (msg.headers ? Number.POSITIVE_INFINITY : 0);
  if (bytes === 0) return { subject, data, eventType: undefined, seq };
  let parsed: ParsedHeaders | undefined;
  const parse = (): ParsedHeaders => (parsed ??= parseHeaders(msg));
  return {
    subject,
    data,
    seq,
    get eventType() {
      return parse().eventType;
    },
    headers: {
      bytes,
      get eventTypes() {
        return parse().eventTypes;
      },
      get unreadable() {
        return parse().unreadable;
      },
    },
  };
}

/** The NATS headers that carry an event's type and de-duplication key, or undefined for none. */
export function natsHeaders({ eventType, msgId }: PublishOptions): MsgHdrs | undefined {
  if (eventType === undefined && msgId === undefined) return undefined;
  const h = headers();
  if (eventType !== undefined) h.set(EVENT_TYPE_HEADER, eventType);
  if (msgId !== undefined) h.set(MSG_ID_HEADER, msgId);
  return h;
}

/** Why a bus message broke a rule: the `reason` label of the poison metrics. */
export const PoisonReason = {
  /** Headers the NATS client cannot parse (a value holding a lone CR or LF): dropped. */
  UnreadableHeaders: 'unreadable-headers',
  /** Payload larger than HUB_MAX_EVENT_BYTES (what `POST /publish` answers 413): dropped. */
  TooLarge: 'too-large',
  /** `Sse-Event` is reserved (`hub.*`), empty, too long, or holds a line break, whitespace or a control character: dropped. */
  BadEventType: 'bad-event-type',
  /** Several `Sse-Event` values: which one is meant cannot be known, so none is guessed: dropped. */
  SeveralEventTypes: 'several-event-types',
  /** A header block larger than HUB_BUS_MAX_HEADER_BYTES (thousands of headers): dropped unparsed. */
  HeadersTooLarge: 'headers-too-large',
  /** Payload bytes that are not UTF-8: delivered with each bad sequence as U+FFFD (repaired). */
  NotUtf8: 'not-utf8',
} as const;
export type PoisonReason = (typeof PoisonReason)[keyof typeof PoisonReason];

export interface PoisonLimits {
  /** HUB_MAX_EVENT_BYTES */
  readonly maxEventBytes: number;
  /** HUB_MAX_EVENT_TYPE_LENGTH */
  readonly maxEventTypeLength: number;
  /** HUB_BUS_MAX_HEADER_BYTES */
  readonly busMaxHeaderBytes: number;
}

/** A message that breaks a rule: `drop` it, or deliver it as the frame encoder makes it safe. */
export interface Poison {
  readonly reason: PoisonReason;
  readonly drop: boolean;
}

const NONE_ALLOWED: ReadonlySet<string> = new Set();

/**
 * The first rule `msg` breaks, or undefined for a good message; a message is refused for one reason
 * only (the one counted). The size of the header block comes first: nothing may parse a large one.
 * `hubTypesAllowed`: reserved `hub.*` types the hub itself sends over the bus (presence events).
 */
export function poisonOf(msg: BusMessage, limits: PoisonLimits, hubTypesAllowed: ReadonlySet<string> = NONE_ALLOWED): Poison | undefined {
  if (msg.headers && msg.headers.bytes > limits.busMaxHeaderBytes) return { reason: PoisonReason.HeadersTooLarge, drop: true };
  if (msg.headers?.unreadable) return { reason: PoisonReason.UnreadableHeaders, drop: true };
  if (msg.data.byteLength > limits.maxEventBytes) return { reason: PoisonReason.TooLarge, drop: true };
  if (msg.headers && msg.headers.eventTypes > 1) return { reason: PoisonReason.SeveralEventTypes, drop: true };
  if (msg.eventType !== undefined && !hubTypesAllowed.has(msg.eventType) && checkEventType(msg.eventType, limits.maxEventTypeLength)) {
    return { reason: PoisonReason.BadEventType, drop: true };
  }
  // The frame encoder decodes such a payload as a browser would (WHATWG UTF-8, replacement
  // characters): a bad sequence never swallows the line break after it, so the frame stays whole.
  if (!isUtf8(msg.data)) return { reason: PoisonReason.NotUtf8, drop: false };
  return undefined;
}
