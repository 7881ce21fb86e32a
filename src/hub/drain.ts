/**
 * Shutdown pacing. Every EventSource reconnects after the same `retry:` delay, so ending thousands
 * of streams at once makes them all land on the other replicas in the same second (and replay from
 * their buffers at once). Ending them spread evenly over a window turns that burst into a steady rate.
 */
import { CloseReason, type SseConnection } from '../sse/connection.js';

/** Closes that fall due in the same tick go together: one timer, at most window / TICK_MS wakeups. */
const TICK_MS = 20;

/**
 * End `connections` in the order given: of n, the k-th (from 0) at k/n of `windowMs`, so the first
 * ends at once and the last at (n-1)/n of the window. Streams still waiting for their turn keep
 * receiving events and heartbeats. A window of 0 ends them all at once. Resolves when all are ended.
 */
export function drainStreams(connections: readonly SseConnection[], windowMs: number): Promise<void> {
  const total = connections.length;
  const started = performance.now();
  let ended = 0;
  return new Promise<void>((resolve) => {
    const step = (): void => {
      const elapsed = performance.now() - started;
      const due = windowMs === 0 ? total : Math.min(total, Math.floor((elapsed * total) / windowMs) + 1);
      while (ended < due) connections[ended++]!.close(CloseReason.Shutdown);
      if (ended >= total) resolve();
      else setTimeout(step, TICK_MS);
    };
    step();
  });
}
