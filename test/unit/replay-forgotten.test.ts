/**
 * The replay buffer remembers, per subject, the newest seq it evicted, but only for HUB_REPLAY_MAX_EVENTS
 * subjects; past that it forgets the oldest and says instead "anything up to this seq may be gone".
 * A resume that reaches back past that point must report loss on every path, literal and wildcard,
 * even for a subject it no longer remembers: otherwise the client gets a silent gap.
 */
import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/replay/buffer.js';

/** seq n on subject s.n: every event has a subject of its own, so each eviction is a new subject. */
function bufferOfDistinctSubjects(maxEvents: number, events: number): ReplayBuffer {
  const buffer = new ReplayBuffer({ maxEvents, maxBytes: 1 << 20, maxAgeMs: 60_000 });
  for (let seq = 1; seq <= events; seq++) buffer.append(seq, `s.${seq}`, Buffer.from(`e${seq}`));
  return buffer;
}

describe('ReplayBuffer past its memory of evicted subjects', () => {
  // maxEvents 3, ten events: 8, 9, 10 are held; s.1 .. s.7 were evicted, and only the last three
  // of those (s.5, s.6, s.7) are still remembered by name.
  const buffer = bufferOfDistinctSubjects(3, 10);

  it('reports loss on a literal topic it has forgotten the eviction of', () => {
    expect(buffer.afterOnSubjects(0, ['s.1'])).toEqual({ complete: false });
    expect(buffer.afterOnSubjects(3, ['s.4'])).toEqual({ complete: false });
  });

  it('reports loss on a wildcard resume over a forgotten subject', () => {
    expect(buffer.after(0, (subject) => subject === 's.1')).toEqual({ complete: false });
  });

  it('still reports loss on a subject it remembers, and none where nothing was missed', () => {
    expect(buffer.afterOnSubjects(6, ['s.7'])).toEqual({ complete: false });
    expect(buffer.afterOnSubjects(7, ['s.8', 's.10']).complete).toBe(true);
    expect(buffer.afterOnSubjects(7, ['s.8', 's.10'])).toEqual({ complete: true, frames: [Buffer.from('e8'), Buffer.from('e10')] });
  });
});
