/**
 * The history port: the replay buffer when this node saw the whole gap, else the bus's history
 * (JetStream), else a reset with the reason. The bus here is a function returning what a bus
 * history read returns; the real one is exercised by the JetStream integration tests.
 */
import { describe, expect, it } from 'vitest';
import type { BusMessage, HistoryResult } from '../../src/bus/bus.js';
import { ReplayBuffer } from '../../src/replay/buffer.js';
import { composeHistory, type CatchUp, type HistoryQuery } from '../../src/replay/history.js';

const message = (seq: number, subject: string): BusMessage => ({ seq, subject, data: Buffer.from(String(seq)), eventType: undefined });

/** A buffer holding seq 1..6 on `sse.a`, `sse.b.x`, `sse.c`, `sse.a`, `sse.b.y`, `sse.c`. */
function buffer(): ReplayBuffer {
  const replay = new ReplayBuffer({ maxEvents: 100, maxBytes: 1e6, maxAgeMs: 1e6 });
  ['sse.a', 'sse.b.x', 'sse.c', 'sse.a', 'sse.b.y', 'sse.c'].forEach((subject, i) => replay.append(i + 1, subject, Buffer.from(`${i + 1}`)));
  return replay;
}

const query = (overrides: Partial<HistoryQuery>): HistoryQuery => ({ after: 0, upTo: 6, patterns: ['sse.a'], coveredSince: 0, ...overrides });
const frames = (catchUp: CatchUp) => (catchUp.kind === 'replay' ? catchUp.frames.map(String) : catchUp);

describe('composeHistory without bus history', () => {
  const history = composeHistory({ replay: buffer(), bus: undefined, frameFor: () => undefined, maxBusEvents: 10 });

  it('reads literal topics and wildcards from the buffer, each pattern adding its own events', () => {
    expect(frames(history.read(query({ patterns: ['sse.a'] })) as CatchUp)).toEqual(['1', '4']);
    expect(frames(history.read(query({ patterns: ['sse.a', 'sse.c'], after: 1 })) as CatchUp)).toEqual(['3', '4', '6']);
    // One wildcard among literals: the whole buffer is scanned, and an event matching any pattern is in.
    expect(frames(history.read(query({ patterns: ['sse.a', 'sse.b.*'] })) as CatchUp)).toEqual(['1', '2', '4', '5']);
    expect(frames(history.read(query({ patterns: ['sse.b.*', 'sse.c'], after: 2 })) as CatchUp)).toEqual(['3', '5', '6']);
  });

  it('resets with not-covered when this node joined the topics after the id, and reads the buffer when it joined at the id', () => {
    expect(history.read(query({ after: 2, coveredSince: 3 }))).toEqual({ kind: 'reset', reason: 'not-covered' });
    expect(frames(history.read(query({ after: 2, coveredSince: 2 })) as CatchUp)).toEqual(['4']);
  });

  it('resets with history-gone when the buffer lost events on the topics', () => {
    const small = new ReplayBuffer({ maxEvents: 2, maxBytes: 1e6, maxAgeMs: 1e6 });
    for (let seq = 1; seq <= 4; seq++) small.append(seq, 'sse.a', Buffer.from(String(seq)));
    const gone = composeHistory({ replay: small, bus: undefined, frameFor: () => undefined, maxBusEvents: 10 });
    expect(gone.read(query({ after: 1 }))).toEqual({ kind: 'reset', reason: 'history-gone' });
    expect(frames(gone.read(query({ after: 2 })) as CatchUp)).toEqual(['3', '4']);
  });
});

describe('composeHistory with bus history', () => {
  /** A history port whose bus answers `result`; `reads` records each bus read's arguments. */
  function withBus(result: HistoryResult, replay = buffer()) {
    const reads: unknown[][] = [];
    const history = composeHistory({
      replay,
      bus: async (...args) => {
        reads.push(args);
        return result;
      },
      // Odd seqs may be sent; even ones not (as a message the hub would refuse to frame).
      frameFor: (msg) => (msg.seq % 2 === 1 ? Buffer.from(`bus ${msg.seq}`) : undefined),
      maxBusEvents: 10,
    });
    return { history, reads };
  }

  it('answers from the buffer at once when this node saw the whole gap, without reading the bus', () => {
    const { history, reads } = withBus({ complete: true, messages: [] });
    expect(frames(history.read(query({ after: 2, coveredSince: 2 })) as CatchUp)).toEqual(['4']);
    expect(reads).toEqual([]);
  });

  it('reads the bus when the gap began before this node covered the topics, sending only frames that may be sent', async () => {
    const messages = [message(3, 'sse.a'), message(4, 'sse.a'), message(5, 'sse.a')];
    const { history, reads } = withBus({ complete: true, messages });
    const read = history.read(query({ after: 2, upTo: 6, coveredSince: 3 }));
    expect(read).toBeInstanceOf(Promise);
    expect(frames(await read)).toEqual(['bus 3', 'bus 5']);
    expect(reads).toEqual([[2, 6, ['sse.a'], 10]]);
  });

  it('reads the bus when the buffer lost events on the topics', async () => {
    const small = new ReplayBuffer({ maxEvents: 1, maxBytes: 1e6, maxAgeMs: 1e6 });
    small.append(1, 'sse.a', Buffer.from('1'));
    small.append(2, 'sse.a', Buffer.from('2'));
    const { history } = withBus({ complete: true, messages: [message(1, 'sse.a')] }, small);
    expect(frames(await history.read(query({ after: 0 })))).toEqual(['bus 1']);
  });

  it('resets with the reason the bus gives when its history is incomplete', async () => {
    for (const reason of ['too-far-behind', 'history-gone'] as const) {
      const { history } = withBus({ complete: false, reason });
      expect(await history.read(query({ after: 1, coveredSince: 4 }))).toEqual({ kind: 'reset', reason });
    }
  });
});
