import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/replay/buffer.js';
import { planResume, type ResumeContext } from '../../src/replay/resume.js';

function context(overrides: Partial<ResumeContext> = {}): ResumeContext {
  const replay = new ReplayBuffer({ maxEvents: 3, maxBytes: 1e6, maxAgeMs: 1e6 });
  for (let seq = 1; seq <= 5; seq++) replay.append(seq, `sse.t${seq % 2}`, Buffer.from(String(seq)));
  return { epoch: 'e', position: 5, sharedIds: false, busHasHistory: false, coveredSince: 0, replay, patterns: ['sse.t1'], ...overrides };
}

describe('planResume', () => {
  it('replays from the buffer when it is complete for the topics', () => {
    const plan = planResume('e-4', context());
    expect(plan).toMatchObject({ kind: 'replay', lastSeq: 5 });
    expect(plan.kind === 'replay' && plan.frames.map(String)).toEqual(['5']);
  });

  it('resets an id of another epoch, or from the future of a node-local sequence', () => {
    expect(planResume('x-4', context())).toEqual({ kind: 'reset', reason: 'unknown-id' });
    expect(planResume('e-9', context())).toEqual({ kind: 'reset', reason: 'unknown-id' });
  });

  it('positions an id ahead of this node when ids are shared (another replica was faster)', () => {
    expect(planResume('e-9', context({ sharedIds: true }))).toEqual({ kind: 'ahead', after: 9 });
  });

  it('resets when history is gone or the node was not listening, unless the bus keeps history', () => {
    expect(planResume('e-0', context())).toEqual({ kind: 'reset', reason: 'history-gone' }); // seq 1 (t1) evicted
    expect(planResume('e-3', context({ coveredSince: 4 }))).toEqual({ kind: 'reset', reason: 'not-covered' });
    expect(planResume('e-0', context({ busHasHistory: true }))).toEqual({ kind: 'history', after: 0 });
    expect(planResume('e-3', context({ busHasHistory: true, coveredSince: 4 }))).toEqual({ kind: 'history', after: 3 });
  });

  it('reads wildcard topics through the whole buffer and literal ones through their own log alike', () => {
    const literal = planResume('e-2', context({ patterns: ['sse.t1', 'sse.t0'] }));
    const wildcard = planResume('e-2', context({ patterns: ['sse.*'] }));
    expect(literal.kind === 'replay' && literal.frames.map(String)).toEqual(['3', '4', '5']);
    expect(wildcard.kind === 'replay' && wildcard.frames.map(String)).toEqual(['3', '4', '5']);
  });
});
