/**
 * A latency histogram with ~1% relative precision in a fixed, small array (log-spaced buckets from
 * 1 µs to ~20 min), so every subscriber process can count millions of samples without keeping them,
 * and the orchestrator can merge the processes' histograms by adding arrays.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket i holds values in [GROWTH^(i-1), GROWTH^i) microseconds; bucket 0 holds everything below 1 µs. */
export const BUCKETS = 2100;

export class Histogram {
  readonly counts: number[];
  count = 0;
  maxMs = 0;

  constructor(counts?: readonly number[]) {
    this.counts = counts ? [...counts] : new Array<number>(BUCKETS).fill(0);
    if (counts) for (const c of counts) this.count += c;
  }

  record(ms: number): void {
    const us = ms * 1000;
    const i = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_GROWTH));
    this.counts[i]!++;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: { counts: readonly number[]; maxMs: number }): void {
    for (let i = 0; i < BUCKETS; i++) {
      const c = other.counts[i]!;
      this.counts[i]! += c;
      this.count += c;
    }
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** The value (ms, bucket upper bound) at or below which `q` of the samples fall; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, GROWTH ** i / 1000);
    }
    return this.maxMs;
  }
}
