/**
 * Recent events, in seq order, as their encoded frames (the same bytes live subscribers got),
 * bounded by count, bytes and age. It also remembers, per subject, the newest seq it has evicted,
 * so it can tell whether a resume on some topics lost anything or only lost events on other topics.
 */

export interface ReplayBounds {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

interface Entry {
  readonly seq: number;
  readonly subject: string;
  readonly frame: Buffer;
  readonly at: number;
}

/** One subject's live entries, oldest first; entries before `head` are evicted (dropped in bulk). */
interface SubjectLog {
  entries: Entry[];
  head: number;
}

export type ReplayResult = { readonly complete: true; readonly frames: Buffer[]; readonly lastSeq: number } | { readonly complete: false };

export class ReplayBuffer {
  // entries[start..] are live; the dead prefix is dropped in bulk to keep eviction O(1) amortised.
  private entries: Entry[] = [];
  private start = 0;
  private bytes = 0;
  /** Newest evicted seq per subject, in eviction order (oldest first); at most maxEvents subjects. */
  private readonly evicted = new Map<string, number>();
  /** The same entries by subject, so a resume on literal topics reads only its own events. */
  private readonly bySubject = new Map<string, SubjectLog>();
  /** Every event at or below this seq may be gone for any subject: the evicted map overflowed. */
  private forgottenUpTo = 0;

  constructor(
    private readonly bounds: ReplayBounds,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.length - this.start;
  }

  get byteSize(): number {
    return this.bytes;
  }

  append(seq: number, subject: string, frame: Buffer): void {
    const entry: Entry = { seq, subject, frame, at: this.now() };
    this.entries.push(entry);
    const log = this.bySubject.get(subject);
    if (log) log.entries.push(entry);
    else this.bySubject.set(subject, { entries: [entry], head: 0 });
    this.bytes += frame.length;
    this.trim();
  }

  /**
   * The frames after `afterSeq` whose subject `matches`, oldest first, or `complete: false` when an
   * event that matches may have been evicted (the caller then sends `hub.reset`).
   */
  after(afterSeq: number, matches: (subject: string) => boolean): ReplayResult {
    this.trim();
    if (this.forgottenUpTo > afterSeq) return { complete: false };
    for (const [subject, seq] of this.evicted) {
      if (seq > afterSeq && matches(subject)) return { complete: false };
    }
    const frames: Buffer[] = [];
    let lastSeq = afterSeq;
    for (let i = this.firstAfter(afterSeq); i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (matches(entry.subject)) {
        frames.push(entry.frame);
        lastSeq = entry.seq;
      }
    }
    return { complete: true, frames, lastSeq };
  }

  /**
   * after() for literal subjects (a resume on topics, not wildcards: the usual case, and every
   * client's in a reconnect storm), in time proportional to the events on those subjects rather
   * than to everything buffered since `afterSeq`.
   */
  afterOnSubjects(afterSeq: number, subjects: readonly string[]): ReplayResult {
    this.trim();
    if (this.forgottenUpTo > afterSeq) return { complete: false };
    for (const subject of subjects) if ((this.evicted.get(subject) ?? 0) > afterSeq) return { complete: false };
    let found: Entry[] = [];
    for (const subject of subjects) {
      const log = this.bySubject.get(subject);
      if (!log) continue;
      const from = firstAfter(log.entries, log.head, afterSeq);
      if (from < log.entries.length) found = found.length === 0 ? log.entries.slice(from) : found.concat(log.entries.slice(from));
    }
    if (subjects.length > 1) found.sort((a, b) => a.seq - b.seq);
    return { complete: true, frames: found.map((entry) => entry.frame), lastSeq: found.length > 0 ? found[found.length - 1]!.seq : afterSeq };
  }

  /** Evict what is past any bound. Called on append and before reads. */
  trim(): void {
    const { maxEvents, maxBytes, maxAgeMs } = this.bounds;
    const oldest = this.now() - maxAgeMs;
    while (this.start < this.entries.length) {
      const entry = this.entries[this.start]!;
      if (this.size <= maxEvents && this.bytes <= maxBytes && entry.at >= oldest) break;
      this.evict(entry);
      this.start++;
    }
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  private evict(entry: Entry): void {
    this.bytes -= entry.frame.length;
    // Eviction goes in seq order, so the entry is the oldest of its subject's log too.
    const log = this.bySubject.get(entry.subject)!;
    log.head++;
    if (log.head === log.entries.length) this.bySubject.delete(entry.subject);
    else if (log.head > 1024 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
    // Re-insert so the map stays in eviction order and the first key is always the oldest.
    this.evicted.delete(entry.subject);
    this.evicted.set(entry.subject, entry.seq);
    if (this.evicted.size > this.bounds.maxEvents) {
      const [subject, seq] = this.evicted.entries().next().value as [string, number];
      this.evicted.delete(subject);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, seq);
    }
  }

  /** Index of the first live entry with seq > afterSeq. */
  private firstAfter(afterSeq: number): number {
    return firstAfter(this.entries, this.start, afterSeq);
  }
}

/** Index of the first entry at or after `from` with seq > afterSeq (binary search: entries are in seq order). */
function firstAfter(entries: readonly Entry[], from: number, afterSeq: number): number {
  let lo = from;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq <= afterSeq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
