/**
 * Every interest this node holds, by pattern and by the subjects it matches, and the bus
 * subscription each one takes. An idle interest lingers before it is dropped; at most
 * `maxLingering` of them do, the oldest going first.
 */
import type { Bus, BusMessage } from '../bus/bus.js';
import { PatternIndex } from '../topics/pattern-index.js';
import { Interest } from './interest.js';

export interface InterestTableOptions {
  readonly bus: Bus;
  /** HUB_MAX_LINGERING_SUBSCRIPTIONS. */
  readonly maxLingering: number;
  /** Every message a subscription gets, with the interest it came through. */
  readonly onMessage: (via: Interest, msg: BusMessage) => void;
}

export class InterestTable {
  private readonly byPattern = new Map<string, Interest>();
  private readonly index = new PatternIndex<Interest>();
  /** Interests with no connection left, oldest first, waiting out their linger period. */
  private readonly lingering = new Set<Interest>();
  private created = 0;

  constructor(private readonly options: InterestTableOptions) {}

  get size(): number {
    return this.byPattern.size;
  }

  /** The active interests whose pattern matches `subject`. */
  match(subject: string): readonly Interest[] {
    return this.index.match(subject);
  }

  /** The interest in `pattern`, made (and subscribing) if there was none; a lingering one stays. */
  acquire(pattern: string): Interest {
    let interest = this.byPattern.get(pattern);
    if (interest) this.lingering.delete(interest);
    else {
      interest = new Interest(pattern, ++this.created, (made) => this.subscribe(made));
      this.byPattern.set(pattern, interest);
    }
    interest.wanted();
    return interest;
  }

  /** The last connection left `interest`: keep its subscription for `lingerMs` (0: not at all). */
  retire(interest: Interest, lingerMs: number): void {
    // Dropped already (its subscription failed): nothing to keep.
    if (this.byPattern.get(interest.pattern) !== interest) return;
    if (lingerMs === 0) return this.drop(interest);
    this.lingering.add(interest);
    interest.linger(lingerMs, () => this.drop(interest));
    if (this.lingering.size > this.options.maxLingering) {
      const oldest = this.lingering.values().next().value;
      if (oldest) this.drop(oldest);
    }
  }

  dropAll(): void {
    for (const interest of [...this.byPattern.values()]) this.drop(interest);
  }

  /** The bus went away: no interest covers anything until it is back. */
  coverageLost(): void {
    for (const interest of this.byPattern.values()) interest.coverageLost();
  }

  /** The bus is back: every active subscription covers what comes after `seq`. */
  coveredFrom(seq: number): void {
    for (const interest of this.byPattern.values()) interest.coveredFrom(seq);
  }

  private async subscribe(interest: Interest): Promise<void> {
    const { bus, onMessage } = this.options;
    const { subscription, since } = await bus.subscribe(interest.pattern, (msg) => onMessage(interest, msg)).catch((err: unknown) => {
      // A failed subscription must not linger for the next stream to find: that one asks the bus anew.
      this.drop(interest);
      throw err;
    });
    if (interest.subscribed(subscription, bus.isConnected() ? since : Number.POSITIVE_INFINITY)) this.index.add(interest.pattern, interest);
  }

  private drop(interest: Interest): void {
    if (!interest.drop()) return;
    this.lingering.delete(interest);
    this.byPattern.delete(interest.pattern);
    this.index.remove(interest.pattern, interest);
  }
}
