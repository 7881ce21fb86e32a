/**
 * Token buckets per key (a token's principal, or a client address): `burst` publishes at once,
 * refilled at `rate` per second. The map holds at most `maxKeys` buckets; the least recently used
 * goes first, which at worst forgives a key that was idle longest (a full bucket is the same as no bucket).
 */
import { Lru } from './lru.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets: Lru<string, Bucket>;

  constructor(
    private rate: number,
    private burst: number,
    maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new Lru(maxKeys);
  }

  /**
   * A reload's rate, burst and bound. Buckets are kept: one fuller than the new burst is cut down to
   * it on its next take, so a lowered limit holds at once and a raised one fills up at the new rate.
   */
  reconfigure(rate: number, burst: number, maxKeys: number): void {
    this.rate = rate;
    this.burst = burst;
    this.buckets.resize(maxKeys);
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Spend `count` tokens (at most `burst`) for `key`. Returns 0 when allowed, else the seconds until they are available. */
  take(key: string, count = 1): number {
    if (this.rate === 0) return 0;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.rate);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return 0;
    }
    return Math.max(1, Math.ceil((count - bucket.tokens) / this.rate));
  }
}
