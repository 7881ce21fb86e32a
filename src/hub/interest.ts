/**
 * Interest in one subject pattern: the connections that asked for it and the one bus subscription
 * they share. It is released when the last connection leaves, after a linger period that lets a
 * quick reconnect resume without a gap in coverage.
 */
import type { BusSubscription } from '../bus/bus.js';
import type { SseConnection } from '../sse/connection.js';

export class Interest {
  readonly connections = new Set<SseConnection>();
  /** Connections waiting for the subscription to become active. */
  pending = 0;
  subscription: BusSubscription | undefined = undefined;
  /**
   * Every event matching the pattern with seq above this has reached the hub. Infinity while the
   * subscription is not active or the bus is away (nothing is covered then).
   */
  coveredSince = Number.POSITIVE_INFINITY;
  lingerTimer: NodeJS.Timeout | undefined = undefined;
  released = false;
  /** Resolves when the subscription is active; rejects if the bus refused it. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly pattern: string,
    /** Creation order: among overlapping subscriptions the oldest one carries each message. */
    readonly order: number,
  ) {}

  get idle(): boolean {
    return this.connections.size === 0 && this.pending === 0;
  }
}
