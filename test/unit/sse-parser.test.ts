/** The client's incremental event-stream parser (client/sse-parser.ts): the WHATWG rules, whatever the chunking. */
import { describe, expect, it } from 'vitest';
import { sseParser, type SseEvent } from '../../client/sse-parser.js';

function parse(chunks: readonly string[]): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const feed = sseParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const chunk of chunks) feed(chunk);
  return { events, retries };
}

const STREAM =
  'retry: 3000\n\n:heartbeat\n\nid: e-1\nevent: hub.open\ndata: {}\n\n' +
  'topic: orders.1\r\nid: e-2\r\ndata: line one\r\ndata: line two\r\n\r\n' +
  'data:no space\rdata\r\r' +
  'id: e-3\nevent: order.updated\ndata: {"a":1}\nunknown: x\n\n' +
  'data: trailing partial';

const EXPECTED: SseEvent[] = [
  { type: 'hub.open', data: '{}', id: 'e-1', topic: '' },
  { type: 'message', data: 'line one\nline two', id: 'e-2', topic: 'orders.1' },
  // The id stays in force for later events, as the spec says; an empty `data` line is an empty line of data.
  { type: 'message', data: 'no space\n', id: 'e-2', topic: '' },
  { type: 'order.updated', data: '{"a":1}', id: 'e-3', topic: '' },
];

describe('sseParser', () => {
  it('parses a stream in one piece: fields, line ends (LF, CRLF, CR), comments, retry, topic, the id carried over', () => {
    const { events, retries } = parse([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(retries).toEqual([3000]);
  });

  it('gives the same events for every split of the text into two chunks, and into single characters', () => {
    for (let at = 0; at <= STREAM.length; at++) expect(parse([STREAM.slice(0, at), STREAM.slice(at)]).events, `split at ${at}`).toEqual(EXPECTED);
    expect(parse([...STREAM]).events).toEqual(EXPECTED);
  });

  it('ignores an id with NUL and a retry that is not a number', () => {
    const { events, retries } = parse(['id: a\n\ndata: x\n\nid: b\0c\nretry: 1e3\ndata: y\n\n']);
    expect(events.map((e) => e.id)).toEqual(['a', 'a']);
    expect(retries).toEqual([]);
  });
});
