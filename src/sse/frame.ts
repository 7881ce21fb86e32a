/**
 * SSE framing per the WHATWG HTML spec ("Server-sent events", event stream interpretation).
 * An event is encoded once, to bytes, and those bytes go to every subscriber and into the replay buffer.
 */
import { isUtf8 } from 'node:buffer';

/** The event type a browser dispatches to `onmessage`; omitted on the wire. */
export const DEFAULT_EVENT_TYPE = 'message';

/** Event types the hub itself sends; publishers may not use the `hub.` namespace. */
export const HubEventType = {
  /** History the subscriber needed is gone: reload state. Data: {"reason", "lastEventId"}. */
  Reset: 'hub.reset',
  /** Sent after any replay: its id is the stream position, so even an idle client resumes exactly. */
  Open: 'hub.open',
  /** The stream's topics changed (POST /streams/<id>/topics); its id is the position of the change. Data: {"topics"}. */
  Topics: 'hub.topics',
  /** A user's first stream on the topic, anywhere in the cluster (HUB_PRESENCE_EVENTS). Data: {"user"}. */
  Join: 'hub.join',
  /** A user's last stream on the topic has been gone for HUB_PRESENCE_LEAVE_GRACE_MS. Data: {"user"}. */
  Leave: 'hub.leave',
} as const;
export const RESERVED_EVENT_PREFIX = 'hub.';

// Payload lines end at \r\n, \n or a lone \r (spec: "end of line"); each becomes one data: line.
const LINE_BREAK = /\r\n|\r|\n/;

export interface FrameFields {
  readonly id?: string | undefined;
  /** Omit or pass `message` for the default type. */
  readonly event?: string | undefined;
  readonly data: string;
}

/**
 * Encode one event. `id` and `event` must hold no CR, LF or NUL (callers validate them at the edge;
 * this throws to keep a bug from splitting a frame). A browser gets `data` back exactly, with every
 * line break as \n.
 */
export function encodeFrame({ id, event, data }: FrameFields): Buffer {
  let text = '';
  if (id !== undefined) {
    assertSingleLine('id', id);
    text += `id: ${id}\n`;
  }
  if (event !== undefined && event !== DEFAULT_EVENT_TYPE) {
    assertSingleLine('event', event);
    text += `event: ${event}\n`;
  }
  if (!LINE_BREAK.test(data)) {
    text += `data: ${data}\n\n`;
  } else {
    for (const line of data.split(LINE_BREAK)) text += `data: ${line}\n`;
    text += '\n';
  }
  return Buffer.from(text, 'utf8');
}

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder();

/**
 * The fan-out's encoder. A payload whose bytes hold no CR or LF is one `data:` line, so its frame
 * is those bytes between a small head and "\n\n", copied once, with no UTF-8 decode and re-encode
 * (encodeFrame would do both). Anything else (several lines, bytes that are not UTF-8, which a
 * browser would see replaced) takes encodeFrame, so the bytes on the wire are the same either way.
 * `event` must already have passed checkEventType.
 */
export function encodeEventFrame(id: string, event: string | undefined, data: Uint8Array): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.indexOf(LF) !== -1 || bytes.indexOf(CR) !== -1 || !isUtf8(bytes)) {
    return encodeFrame({ id, event, data: decoder.decode(bytes) });
  }
  assertSingleLine('id', id);
  const head = event === undefined || event === DEFAULT_EVENT_TYPE ? `id: ${id}\ndata: ` : `id: ${id}\nevent: ${event}\ndata: `;
  const headLength = Buffer.byteLength(head);
  const frame = Buffer.allocUnsafe(headLength + bytes.length + 2);
  frame.write(head, 0, headLength, 'utf8');
  bytes.copy(frame, headLength);
  frame[frame.length - 2] = LF;
  frame[frame.length - 1] = LF;
  return frame;
}

/**
 * The frame of a stream opened with `fields=topic`: a `topic:` field line, then the plain frame's
 * bytes. Browsers' EventSource ignores fields it does not know (WHATWG: "ignore the field"), so the
 * wire stays compatible; the hub's client reads it to tell a shared stream's topics apart.
 * `topic` is a validated topic (no CR, LF or NUL: checked anyway, as for ids).
 */
export function withTopicField(topic: string, frame: Buffer): Buffer {
  assertSingleLine('topic', topic);
  const line = `topic: ${topic}\n`;
  const length = Buffer.byteLength(line);
  const out = Buffer.allocUnsafe(length + frame.length);
  out.write(line, 0, length, 'utf8');
  frame.copy(out, length);
  return out;
}

/** A comment line: ignored by clients, keeps proxies and NATs from timing the stream out. */
export const HEARTBEAT_FRAME: Buffer = Buffer.from(':\n\n', 'utf8');

export function encodeRetry(retryMs: number): Buffer {
  return Buffer.from(`retry: ${retryMs}\n\n`, 'utf8');
}

function assertSingleLine(field: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new TypeError(`SSE ${field} must not contain CR, LF or NUL`);
}

/** The check the HTTP edge applies to publisher-chosen event types. Returns a problem or undefined. */
export function checkEventType(event: string, maxLength: number): string | undefined {
  if (event === '') return 'is empty';
  if (event.length > maxLength) return `is longer than ${maxLength} characters`;
  if (/[\r\n\0]/.test(event)) return 'contains a line break or NUL';
  if (/[\s\u0000-\u001f\u007f]/u.test(event)) return 'contains whitespace or a control character';
  if (event.startsWith(RESERVED_EVENT_PREFIX)) return `types starting with "${RESERVED_EVENT_PREFIX}" are reserved for the hub`;
  return undefined;
}
