import { describe, expect, it } from 'vitest';
import type { HistoryResult } from '../../src/bus/bus.js';
import { ReplayBuffer } from '../../src/replay/buffer.js';
import { composeHistory } from '../../src/replay/history.js';
import { planResume, type ResumeContext } from '../../src/replay/resume.js';

interface Overrides extends Partial<Omit<ResumeContext, 'history'>> {
  /** The bus keeps history: its reads are recorded in `busReads` (the seq each one starts after). */
  readonly busHasHistory?: boolean;
}

const busReads: number[] = [];

function context({ busHasHistory = false, ...overrides }: Overrides = {}): ResumeContext {
  const replay = new ReplayBuffer({ maxEvents: 3, maxBytes: 1e6, maxAgeMs: 1e6 });
  for (let seq = 1; seq <= 5; seq++) replay.append(seq, `sse.t${seq % 2}`, Buffer.from(String(seq)));
  const bus = async (afterSeq: number): Promise<HistoryResult> => {
    busReads.push(afterSeq);
    return { complete: true, messages: [] };
  };
  const history = composeHistory({ replay, bus: busHasHistory ? bus : undefined, frameFor: () => undefined, maxBusEvents: 100 });
  return { epoch: 'e', position: 5, clusterWideIds: false, coveredSince: 0, history, patterns: ['sse.t1'], ...overrides };
}

/** The plan, with a bus history read reported as `{ kind: 'history', after }`. */
function plan(lastEventId: string, ctx: ResumeContext) {
  busReads.length = 0;
  const planned = planResume(lastEventId, ctx);
  if (planned.kind !== 'history') return planned;
  expect(busReads).toHaveLength(1);
  return { kind: 'history' as const, after: busReads[0] };
}

describe('planResume', () => {
  it('replays from the buffer when it is complete for the topics', () => {
    const planned = plan('e-4', context());
    expect(planned).toMatchObject({ kind: 'replay' });
    expect(planned.kind === 'replay' && planned.frames.map(String)).toEqual(['5']);
  });

  it('resets an id of another epoch, or from the future of a node-local sequence', () => {
    expect(plan('x-4', context())).toEqual({ kind: 'reset', reason: 'unknown-id' });
    expect(plan('e-9', context())).toEqual({ kind: 'reset', reason: 'unknown-id' });
  });

  it('positions an id ahead of this node when ids are shared (another replica was faster)', () => {
    expect(plan('e-9', context({ clusterWideIds: true }))).toEqual({ kind: 'ahead', after: 9 });
  });

  it('takes an id at the position itself as up to date: nothing to replay, no reset', () => {
    for (const clusterWideIds of [false, true]) {
      const planned = plan('e-5', context({ clusterWideIds }));
      expect(planned.kind === 'replay' && planned.frames).toEqual([]);
    }
  });

  it('resets when history is gone or the node was not listening, unless the bus keeps history', () => {
    expect(plan('e-0', context())).toEqual({ kind: 'reset', reason: 'history-gone' }); // seq 1 (t1) evicted
    expect(plan('e-3', context({ coveredSince: 4 }))).toEqual({ kind: 'reset', reason: 'not-covered' });
    expect(plan('e-0', context({ busHasHistory: true }))).toEqual({ kind: 'history', after: 0 });
    expect(plan('e-3', context({ busHasHistory: true, coveredSince: 4 }))).toEqual({ kind: 'history', after: 3 });
  });

  it('reads wildcard topics through the whole buffer and literal ones through their own log alike', () => {
    const literal = plan('e-2', context({ patterns: ['sse.t1', 'sse.t0'] }));
    const wildcard = plan('e-2', context({ patterns: ['sse.*'] }));
    expect(literal.kind === 'replay' && literal.frames.map(String)).toEqual(['3', '4', '5']);
    expect(wildcard.kind === 'replay' && wildcard.frames.map(String)).toEqual(['3', '4', '5']);
  });
});
