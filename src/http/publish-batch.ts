/**
 * The batch form of `POST /publish` (no `topic` in the query): a JSON array of events
 * (`Content-Type: application/json`) or one JSON event per line (`application/x-ndjson`), each
 * `{"topic": "...", "data": "...", "event"?: "...", "id"?: "..."}`. The whole batch is checked here
 * before anything is published: the first bad event makes the answer, naming its index.
 */
import { ErrorCode, HubError } from '../errors.js';
import { checkPublishEventType, checkPublishTopic, type EventRules } from './publish-checks.js';
import { isValidMsgId } from './publish-msg-id.js';

export const BatchFormat = { Json: 'json', Ndjson: 'ndjson' } as const;
export type BatchFormat = (typeof BatchFormat)[keyof typeof BatchFormat];

export interface BatchEvent {
  readonly topic: string;
  readonly eventType: string | undefined;
  readonly data: Uint8Array;
  /** The event's own key (`id`), when it gave one. */
  readonly msgId: string | undefined;
}

export interface BatchRules extends EventRules {
  readonly maxBatchEvents: number;
}

// In a u-mode pattern a well-formed pair is one code point, so only a lone half matches.
const LONE_SURROGATE = /\p{Cs}/u;
const FIELDS = new Set(['topic', 'data', 'event', 'id']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The batch format a Content-Type names (parameters such as `charset` aside), or undefined. */
export function batchFormat(contentType: string | undefined): BatchFormat | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/json') return BatchFormat.Json;
  if (type === 'application/x-ndjson') return BatchFormat.Ndjson;
  return undefined;
}

/** Every event of the batch, checked, or the refusal of the whole batch. */
export function parseBatch(body: Uint8Array, format: BatchFormat, rules: BatchRules): BatchEvent[] | HubError {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return new HubError(ErrorCode.BadPayload, 'the body is not valid UTF-8 text');
  }
  const raw = format === BatchFormat.Json ? jsonItems(text) : ndjsonItems(text);
  if (raw instanceof HubError) return raw;
  if (raw.length === 0) return new HubError(ErrorCode.BadBatch, 'the batch holds no events');
  if (raw.length > rules.maxBatchEvents) {
    return new HubError(ErrorCode.PayloadTooLarge, `the batch holds ${raw.length} events, more than ${rules.maxBatchEvents} (HUB_PUBLISH_MAX_BATCH_EVENTS)`);
  }
  const events: BatchEvent[] = [];
  for (let index = 0; index < raw.length; index++) {
    const event = checkItem(raw[index], rules);
    if (event instanceof HubError) {
      return new HubError(event.code, `event ${index}: ${event.message}`, { details: { index: String(index) } });
    }
    events.push(event);
  }
  return events;
}

function jsonItems(text: string): unknown[] | HubError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new HubError(ErrorCode.BadBatch, `the body is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) return new HubError(ErrorCode.BadBatch, 'an application/json batch is an array of events');
  return value;
}

/** One event per line; blank lines (a trailing newline) are no events. Indexes count events. */
function ndjsonItems(text: string): unknown[] | HubError {
  const items: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      return new HubError(ErrorCode.BadBatch, `event ${items.length}: the line is not JSON: ${(err as Error).message}`, { details: { index: String(items.length) } });
    }
  }
  return items;
}

function checkItem(item: unknown, rules: EventRules): BatchEvent | HubError {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return new HubError(ErrorCode.BadBatch, 'is not an object');
  const fields = item as Record<string, unknown>;
  // A misspelt field ("evnet") would otherwise be dropped without a word.
  for (const name of Object.keys(fields)) if (!FIELDS.has(name)) return new HubError(ErrorCode.BadBatch, `unknown field ${JSON.stringify(name.slice(0, 64))}`);
  const { topic, data, event, id } = fields;
  if (typeof topic !== 'string') return new HubError(ErrorCode.NoTopic, '"topic" must be a string');
  const topicProblem = checkPublishTopic(topic, rules);
  if (topicProblem) return topicProblem;
  if (event !== undefined && typeof event !== 'string') return new HubError(ErrorCode.BadEventType, '"event" must be a string');
  const type = checkPublishEventType(event, rules);
  if (type instanceof HubError) return type;
  if (typeof data !== 'string') return new HubError(ErrorCode.BadPayload, '"data" must be a string (the event\'s text)');
  // JSON may carry a lone surrogate ("\ud800"), which has no UTF-8 form.
  if (LONE_SURROGATE.test(data)) return new HubError(ErrorCode.BadPayload, '"data" is not valid Unicode text (a lone surrogate)');
  const bytes = Buffer.from(data, 'utf8');
  if (bytes.length > rules.maxEventBytes) return new HubError(ErrorCode.PayloadTooLarge, `"data" is larger than ${rules.maxEventBytes} bytes`);
  if (id !== undefined && (typeof id !== 'string' || !isValidMsgId(id))) return new HubError(ErrorCode.BadMsgId, '"id" must be 1-128 visible ASCII characters');
  return { topic, eventType: type.eventType, data: bytes, msgId: id };
}
