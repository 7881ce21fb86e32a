import { describe, expect, it } from 'vitest';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { checkEventType, encodeFrame, encodeRetry, HEARTBEAT_FRAME } from '../../src/sse/frame.js';

/** Parse frames the way a spec-following client does (the parser inside the `eventsource` package). */
function parse(bytes: Buffer): EventSourceMessage[] {
  const out: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => out.push(e) });
  parser.feed(bytes.toString('utf8'));
  return out;
}

describe('encodeFrame', () => {
  it('writes id, event and one data line', () => {
    expect(encodeFrame({ id: 'a-1', event: 'created', data: 'hello' }).toString()).toBe('id: a-1\nevent: created\ndata: hello\n\n');
  });

  it('omits the default event type', () => {
    expect(encodeFrame({ id: 'a-2', event: 'message', data: 'x' }).toString()).toBe('id: a-2\ndata: x\n\n');
    expect(encodeFrame({ data: 'x' }).toString()).toBe('data: x\n\n');
  });

  it.each([
    ['LF', 'one\ntwo\nthree'],
    ['CRLF', 'one\r\ntwo\r\nthree'],
    ['lone CR', 'one\rtwo\rthree'],
    ['mixed', 'one\r\ntwo\rthree'],
  ])('splits %s payloads into data lines that a client joins back with \\n', (_name, payload) => {
    const frame = encodeFrame({ id: 'a-3', data: payload });
    expect(frame.toString()).toBe('id: a-3\ndata: one\ndata: two\ndata: three\n\n');
    expect(parse(frame)[0]!.data).toBe('one\ntwo\nthree');
  });

  it('keeps empty lines, trailing newlines and leading spaces', () => {
    for (const payload of ['', '\n', 'a\n\nb', 'end\n', ' lead', '  two', ':colon', 'data: inside']) {
      const events = parse(encodeFrame({ id: 'x-1', data: payload }));
      expect(events).toHaveLength(1);
      expect(events[0]!.data).toBe(payload.replace(/\r\n|\r/g, '\n'));
    }
  });

  it('round-trips unicode byte for byte', () => {
    const payload = 'héllo 世界 🎉 \u2028 \u0085 end';
    const frame = encodeFrame({ id: 'u-1', event: 'ünï', data: payload });
    expect(frame.equals(Buffer.from(`id: u-1\nevent: ünï\ndata: ${payload}\n\n`, 'utf8'))).toBe(true);
    expect(parse(frame)[0]).toMatchObject({ id: 'u-1', event: 'ünï', data: payload });
  });

  it('refuses CR, LF or NUL in id and event', () => {
    expect(() => encodeFrame({ id: 'a\nb', data: '' })).toThrow(/id/);
    expect(() => encodeFrame({ event: 'a\rb', data: '' })).toThrow(/event/);
    expect(() => encodeFrame({ id: 'a\0b', data: '' })).toThrow(/id/);
  });

  it('encodes heartbeat and retry as the spec reads them', () => {
    expect(HEARTBEAT_FRAME.toString()).toBe(':\n\n');
    expect(parse(HEARTBEAT_FRAME)).toEqual([]);
    expect(encodeRetry(2500).toString()).toBe('retry: 2500\n\n');
  });
});

describe('checkEventType', () => {
  it('accepts ordinary types', () => {
    expect(checkEventType('order.created', 128)).toBeUndefined();
    expect(checkEventType('message', 128)).toBeUndefined();
    expect(checkEventType('x'.repeat(128), 128)).toBeUndefined(); // the bound itself is allowed
    expect(checkEventType('x'.repeat(129), 128)).toBe('is longer than 128 characters');
  });
  it.each([
    ['', /empty/],
    ['a\nb', /line break/],
    ['a b', /whitespace/],
    ['hub.reset', /reserved/],
    ['x'.repeat(129), /longer than 128/],
  ])('rejects %j', (type, problem) => {
    expect(checkEventType(type, 128)).toMatch(problem);
  });
});
