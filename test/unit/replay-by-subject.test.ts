import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/replay/buffer.js';

// A small deterministic generator, so a failure is reproducible.
function random(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('ReplayBuffer.afterOnSubjects', () => {
  it('answers exactly as after() with a literal matcher, through evictions by count, bytes and age', () => {
    const next = random(7);
    let clock = 0;
    const buffer = new ReplayBuffer({ maxEvents: 50, maxBytes: 2000, maxAgeMs: 400 }, () => clock);
    const subjects = ['s.a', 's.b', 's.c', 's.d', 's.e'];
    for (let seq = 1; seq <= 3000; seq++) {
      clock += Math.floor(next() * 10);
      buffer.append(seq, subjects[Math.floor(next() * subjects.length)]!, Buffer.alloc(1 + Math.floor(next() * 60)));
      if (seq % 7 !== 0) continue;
      const afterSeq = Math.max(0, seq - Math.floor(next() * 120));
      const wanted = subjects.filter(() => next() < 0.4);
      if (wanted.length === 0) wanted.push('s.a');
      const expected = buffer.after(afterSeq, (subject) => wanted.includes(subject));
      expect(buffer.afterOnSubjects(afterSeq, wanted), `seq ${seq} after ${afterSeq} on ${wanted.join(',')}`).toEqual(expected);
    }
  });

  it('knows nothing of a subject it never saw, and says so completely', () => {
    const buffer = new ReplayBuffer({ maxEvents: 10, maxBytes: 1000, maxAgeMs: 60_000 });
    buffer.append(1, 's.a', Buffer.from('x'));
    expect(buffer.afterOnSubjects(0, ['s.zzz'])).toEqual({ complete: true, frames: [] });
  });
});
