/**
 * Overload pacing: when publishers offer more than subscribers take, the streams' unsent bytes grow
 * (and with them every subscriber's latency). Past HUB_PUBLISH_MAX_BACKLOG_BYTES a publish is
 * refused with `503 overloaded` and `Retry-After`, so the backlog, and the latency it makes, stay
 * bounded. Refusing rather than holding the answer: a held publish keeps its request, its body and
 * its connection in the hub while it waits, and the publisher learns nothing it can act on.
 */
import { ErrorCode, HubError } from '../errors.js';

// The backlog is a walk over every open stream: taken at most this often, not per publish (20,000
// streams cost about 0.1 ms a walk). Between walks a publisher may add what one interval brings.
const SAMPLE_MS = 10;
/** Seconds a refused publisher is asked to wait: a backlog of this size drains in well under one. */
export const OVERLOAD_RETRY_AFTER_S = 1;

/** The refusal for a publish now, or undefined; `() => undefined` when pacing is off (bound 0). */
export function publishPacing(unsentBytes: () => number, bound: number): () => HubError | undefined {
  if (bound === 0) return () => undefined;
  let sampledAt = -Infinity;
  let backlog = 0;
  return () => {
    const now = performance.now();
    if (now - sampledAt >= SAMPLE_MS) {
      sampledAt = now;
      backlog = unsentBytes();
    }
    if (backlog <= bound) return undefined;
    return new HubError(ErrorCode.Overloaded, `subscribers are behind: ${backlog} bytes unsent, above ${bound} (HUB_PUBLISH_MAX_BACKLOG_BYTES); nothing was published`);
  };
}
