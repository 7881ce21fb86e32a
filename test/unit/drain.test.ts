import { describe, expect, it } from 'vitest';
import { drainStreams } from '../../src/hub/drain.js';
import { CloseReason, type SseConnection } from '../../src/sse/connection.js';

/** Stands in for a connection: drain only calls close(). */
function fakeConnections(count: number, closed: string[]): SseConnection[] {
  return Array.from({ length: count }, (_, i) => ({ close: (reason: CloseReason) => closed.push(`${i}:${reason}`) }) as unknown as SseConnection);
}

describe('drainStreams', () => {
  it('with a window of 0 ends every stream at once, in order', async () => {
    const closed: string[] = [];
    const done = drainStreams(fakeConnections(3, closed), 0);
    expect(closed).toEqual(['0:shutdown', '1:shutdown', '2:shutdown']);
    await done;
  });

  it('ends the first stream at once and the rest later, each once, in order', async () => {
    const closed: string[] = [];
    const done = drainStreams(fakeConnections(4, closed), 200);
    expect(closed).toEqual([`0:${CloseReason.Shutdown}`]);
    await done;
    expect(closed).toEqual(['0:shutdown', '1:shutdown', '2:shutdown', '3:shutdown']);
  });

  it('resolves at once with nothing to drain', async () => {
    await drainStreams([], 5000);
  });
});
