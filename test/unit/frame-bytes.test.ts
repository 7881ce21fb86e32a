import { describe, expect, it } from 'vitest';
import { encodeEventFrame, encodeFrame } from '../../src/sse/frame.js';

const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('encodeEventFrame (the fan-out encoder, from payload bytes)', () => {
  it.each([
    ['one line', utf8('{"a":1}')],
    ['empty', utf8('')],
    ['non-ASCII', utf8('grüße ✓ 🚀')],
    ['LF lines', utf8('a\nb\n')],
    ['CRLF lines', utf8('a\r\nb')],
    ['lone CR', utf8('a\rb')],
    ['bytes that are not UTF-8', new Uint8Array([0x61, 0xff, 0xfe, 0x62])],
  ])('gives the same bytes as encodeFrame for %s', (_name, data) => {
    for (const event of [undefined, 'message', 'order.updated']) {
      const expected = encodeFrame({ id: 'e1-42', event, data: decode(data) });
      expect(encodeEventFrame('e1-42', event, data).equals(expected)).toBe(true);
      // A Uint8Array view into a larger buffer (as NATS hands them out) reads only its own bytes.
      const padded = new Uint8Array(data.length + 6);
      padded.set(data, 3);
      expect(encodeEventFrame('e1-42', event, padded.subarray(3, 3 + data.length)).equals(expected)).toBe(true);
    }
  });

  it('refuses an id that would split the frame', () => {
    expect(() => encodeEventFrame('a\nb', undefined, utf8('x'))).toThrow(/id must not contain/);
  });
});
