/**
 * Interest in one subject pattern: the connections that asked for it and the one bus subscription
 * they share. When the last connection leaves it lingers for a while before it is dropped, so a
 * quick reconnect resumes without a gap in coverage.
 */
import type { BusSubscription } from '../bus/bus.js';
import type { SseConnection } from '../sse/connection.js';

export class Interest {
  private readonly members = new Set<SseConnection>();
  /** Connections that asked for it and wait for the subscription to become active. */
  private waiting = 0;
  private subscription: BusSubscription | undefined = undefined;
  private coverage = Number.POSITIVE_INFINITY;
  private lingerTimer: NodeJS.Timeout | undefined = undefined;
  private dropped = false;
  /** Resolves when the subscription is active; rejects if the bus refused it. */
  readonly ready: Promise<void>;

  constructor(
    readonly pattern: string,
    /** Creation order: among overlapping subscriptions the oldest one carries each message. */
    readonly order: number,
    /** Takes the bus subscription and reports it with subscribed(). */
    subscribe: (interest: Interest) => Promise<void>,
  ) {
    this.ready = subscribe(this);
  }

  /** The connections in its live fan-out. */
  get connections(): ReadonlySet<SseConnection> {
    return this.members;
  }

  /**
   * Every event matching the pattern with seq above this has reached the hub. Infinity while the
   * subscription is not active or the bus is away (nothing is covered then).
   */
  get coveredSince(): number {
    return this.coverage;
  }

  get idle(): boolean {
    return this.members.size === 0 && this.waiting === 0;
  }

  /** A connection asked for it and waits for `ready`; a lingering interest stays. */
  wanted(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.waiting++;
  }

  /** A connection that waited joins the fan-out. */
  joined(conn: SseConnection): void {
    this.waiting--;
    this.members.add(conn);
  }

  /** A connection ended, whether it had joined or still waited. */
  left(conn: SseConnection): void {
    if (!this.members.delete(conn)) this.waiting--;
  }

  /**
   * The bus subscription is active, covering what comes after `coveredSince`. False when the
   * interest was dropped meanwhile: the subscription is undone and the interest stays out.
   */
  subscribed(subscription: BusSubscription, coveredSince: number): boolean {
    if (this.dropped) {
      subscription.unsubscribe();
      return false;
    }
    this.subscription = subscription;
    this.coverage = coveredSince;
    return true;
  }

  /** The bus went away: nothing is covered until it is back. */
  coverageLost(): void {
    this.coverage = Number.POSITIVE_INFINITY;
  }

  /** The bus is back: an active subscription covers what comes after `seq`. */
  coveredFrom(seq: number): void {
    if (this.subscription) this.coverage = seq;
  }

  /** Idle now: call `expire` after `ms` unless a connection wants it again first. */
  linger(ms: number, expire: () => void): void {
    this.lingerTimer = setTimeout(expire, ms);
    this.lingerTimer.unref();
  }

  /** Give up the bus subscription for good; false when it was dropped already. */
  drop(): boolean {
    if (this.dropped) return false;
    this.dropped = true;
    clearTimeout(this.lingerTimer);
    this.subscription?.unsubscribe();
    return true;
  }
}
