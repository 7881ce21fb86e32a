/**
 * The nodes this node has heard from lately, from their heartbeats: whom a request to every node
 * waits for. A node silent for PEER_TTL_BEATS heartbeats (killed, partitioned) is no longer waited
 * for; until then a gather waits out HUB_CONTROL_TIMEOUT_MS for it. Being in this view is never
 * what counts a node's streams: only its answer does, so a dead node's streams are never counted.
 */

/** Heartbeats a node may miss before it is no longer waited for. */
export const PEER_TTL_BEATS = 3;

export class Peers {
  private readonly seen = new Map<string, number>();
  private readonly startedAt: number;

  constructor(
    private readonly self: string,
    private readonly heartbeatMs: number,
    now = Date.now(),
  ) {
    this.startedAt = now;
  }

  /** A heartbeat of `node` came; true when it was not known (or given up for) before. */
  heard(node: string, now = Date.now()): boolean {
    if (node === this.self) return false;
    const before = this.seen.get(node);
    this.seen.set(node, now);
    return before === undefined || now - before > this.heartbeatMs * PEER_TTL_BEATS;
  }

  /**
   * The nodes to wait for, this one included, or undefined while this node may not have heard
   * every live node yet (for its first heartbeat interval): then a gather waits for its timeout.
   */
  expected(now = Date.now()): ReadonlySet<string> | undefined {
    if (now - this.startedAt < this.heartbeatMs) return undefined;
    const ttl = this.heartbeatMs * PEER_TTL_BEATS;
    const nodes = new Set([this.self]);
    for (const [node, at] of this.seen) {
      if (now - at <= ttl) nodes.add(node);
      else this.seen.delete(node);
    }
    return nodes;
  }
}
