/** The replay buffer's two additions: the newest N events (`rewind=N`) and the `topic:` variant of a frame, encoded once. */
import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/replay/buffer.js';
import { withTopicField } from '../../src/sse/frame.js';

const text = (frames: readonly Buffer[]) => frames.map((f) => f.toString());

function filled(maxEvents = 100): ReplayBuffer {
  const buffer = new ReplayBuffer({ maxEvents, maxBytes: 1e6, maxAgeMs: 1e6 }, Date.now, (subject, frame) => withTopicField(subject.slice(4), frame));
  const subjects = ['sse.a', 'sse.b.1', 'sse.a', 'sse.c', 'sse.b.2', 'sse.a'];
  subjects.forEach((subject, i) => buffer.append(i + 1, subject, Buffer.from(String(i + 1))));
  return buffer;
}

describe('ReplayBuffer.last', () => {
  it('gives the newest N matching events up to a position, oldest first, for literal subjects and for a matcher', () => {
    const buffer = filled();
    expect(text(buffer.last(2, 6, { subjects: ['sse.a'] }).frames)).toEqual(['3', '6']);
    expect(text(buffer.last(3, 6, { subjects: ['sse.a', 'sse.c'] }).frames)).toEqual(['3', '4', '6']);
    expect(text(buffer.last(2, 5, (s) => s.startsWith('sse.b.')).frames)).toEqual(['2', '5']);
    expect(text(buffer.last(10, 3, { subjects: ['sse.a'] }).frames)).toEqual(['1', '3']);
    expect(buffer.last(2, 6, { subjects: ['sse.a'] }).oldestSeq).toBe(3);
    expect(buffer.last(2, 6, { subjects: ['sse.none'] })).toEqual({ frames: [], oldestSeq: undefined });
  });

  it('gives fewer when fewer are retained', () => {
    const small = filled(2);
    expect(text(small.last(5, 6, (s) => s.length > 0).frames)).toEqual(['5', '6']);
  });
});

describe('ReplayBuffer.withTopic', () => {
  it('encodes the topic variant once per event, counts it in the byte bound, and replays it', () => {
    const buffer = new ReplayBuffer({ maxEvents: 10, maxBytes: 1e6, maxAgeMs: 1e6 }, Date.now, (subject, frame) => withTopicField(subject.slice(4), frame));
    const event = buffer.append(1, 'sse.orders.1', Buffer.from('id: x-1\ndata: a\n\n'));
    const before = buffer.byteSize;
    const first = buffer.withTopic(event);
    expect(first.toString()).toBe('topic: orders.1\nid: x-1\ndata: a\n\n');
    expect(buffer.withTopic(event)).toBe(first);
    expect(buffer.byteSize).toBe(before + first.length);
    const replayed = buffer.afterOnSubjects(0, ['sse.orders.1'], true);
    expect(replayed.complete && replayed.frames[0]).toBe(first);
    expect(buffer.last(1, 1, { subjects: ['sse.orders.1'] }, true).frames[0]).toBe(first);
  });

  it('refuses a topic with a line break (a bug must not split a frame)', () => {
    expect(() => withTopicField('a\nb', Buffer.from('data: x\n\n'))).toThrow(TypeError);
  });
});
