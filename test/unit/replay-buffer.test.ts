import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/replay/buffer.js';
import { formatEventId, parseEventId } from '../../src/replay/event-id.js';

const frame = (text: string) => Buffer.from(text);
const all = () => true;
const texts = (r: ReturnType<ReplayBuffer['after']>) => (r.complete ? r.frames.map(String) : 'incomplete');

describe('ReplayBuffer', () => {
  it('returns frames after a seq, in order, filtered by subject', () => {
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 1e6, maxAgeMs: 1e6 });
    buffer.append(1, 'a', frame('1'));
    buffer.append(2, 'b', frame('2'));
    buffer.append(5, 'a', frame('5'));
    expect(texts(buffer.after(0, all))).toEqual(['1', '2', '5']);
    expect(texts(buffer.after(1, all))).toEqual(['2', '5']);
    expect(texts(buffer.after(2, (s) => s === 'a'))).toEqual(['5']);
    expect(texts(buffer.after(5, all))).toEqual([]);
    expect(texts(buffer.after(1, (s) => s === 'a'))).toEqual(['5']);
  });

  it('bounds by count and reports loss only for subjects that lost events', () => {
    const buffer = new ReplayBuffer({ maxEvents: 2, maxBytes: 1e6, maxAgeMs: 1e6 });
    buffer.append(1, 'a', frame('1'));
    buffer.append(2, 'b', frame('2'));
    buffer.append(3, 'b', frame('3'));
    expect(buffer.size).toBe(2);
    expect(buffer.after(0, (s) => s === 'a').complete).toBe(false); // 1 on 'a' is gone
    expect(texts(buffer.after(0, (s) => s === 'b'))).toEqual(['2', '3']); // nothing on 'b' lost
    expect(texts(buffer.after(1, all))).toEqual(['2', '3']); // the evicted event is before the id
  });

  it('bounds by bytes', () => {
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 10, maxAgeMs: 1e6 });
    buffer.append(1, 'a', frame('xxxxx'));
    buffer.append(2, 'a', frame('yyyyy'));
    buffer.append(3, 'a', frame('zzzzz'));
    expect(buffer.byteSize).toBe(10);
    expect(texts(buffer.after(1, all))).toEqual(['yyyyy', 'zzzzz']);
    expect(buffer.after(0, all).complete).toBe(false);
  });

  it('bounds by age', () => {
    let now = 1000;
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 1e6, maxAgeMs: 50 }, () => now);
    buffer.append(1, 'a', frame('1'));
    now = 1040;
    buffer.append(2, 'a', frame('2'));
    now = 1060;
    expect(texts(buffer.after(1, all))).toEqual(['2']);
    expect(buffer.after(0, all).complete).toBe(false);
    now = 2000;
    buffer.trim();
    expect(buffer.size).toBe(0);
  });

  it('stays bounded in remembered subjects, erring toward reporting loss', () => {
    const buffer = new ReplayBuffer({ maxEvents: 2, maxBytes: 1e6, maxAgeMs: 1e6 });
    for (let seq = 1; seq <= 10; seq++) buffer.append(seq, `s${seq}`, frame(String(seq)));
    // Subjects s1..s6 fell out of the eviction memory: any resume before seq 6 may have lost events.
    expect(buffer.after(5, (s) => s === 'nothing-here').complete).toBe(false);
    expect(texts(buffer.after(8, all))).toEqual(['9', '10']);
  });

  it('with a zero-size buffer every gap is a loss', () => {
    const buffer = new ReplayBuffer({ maxEvents: 0, maxBytes: 1e6, maxAgeMs: 1e6 });
    buffer.append(1, 'a', frame('1'));
    expect(buffer.after(0, all).complete).toBe(false);
    expect(texts(buffer.after(1, all))).toEqual([]);
  });

  it('keeps working after compaction of a long history', () => {
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 1e9, maxAgeMs: 1e9 });
    for (let seq = 1; seq <= 5000; seq++) buffer.append(seq, 'a', frame(String(seq)));
    expect(buffer.size).toBe(100);
    expect(texts(buffer.after(4997, all))).toEqual(['4998', '4999', '5000']);
  });
});

describe('event ids', () => {
  it('round-trip within an epoch', () => {
    expect(parseEventId(formatEventId('ab12', 42), 'ab12')).toEqual({ known: true, seq: 42 });
  });
  it.each(['other-42', 'ab12-', 'ab12-x', '42', '', 'ab12-1.5', 'ab12--4', `ab12-${'9'.repeat(80)}`])('treats %j as unknown', (id) => {
    expect(parseEventId(id, 'ab12').known).toBe(false);
  });
});
