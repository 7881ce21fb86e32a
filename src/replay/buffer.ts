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
  /** The frame with its `topic:` field (streams with `fields=topic`), encoded on first use, then kept. */
  topicFrame: Buffer | undefined;
}

/** One buffered event, as append() returns it: pass it back to withTopic(). */
export type BufferedEvent = Readonly<Entry>;

/** The frame of a `fields=topic` stream, made from the plain frame and the event's bus subject. */
export type TopicFramer = (subject: string, frame: Buffer) => Buffer;

/**
 * Entries in seq order, oldest dropped first. Dropped entries stay as a dead prefix and are cut off
 * in bulk, so dropping is O(1) amortised. Used for the whole buffer and for each subject's share.
 */
class SeqLog {
  private entries: Entry[] = [];
  private head = 0;

  get size(): number {
    return this.entries.length - this.head;
  }

  oldest(): Entry | undefined {
    return this.entries[this.head];
  }

  push(entry: Entry): void {
    this.entries.push(entry);
  }

  /** Whether `entry` is still live here (not dropped); the log is in seq order. */
  contains(entry: Entry): boolean {
    const oldest = this.entries[this.head];
    return oldest !== undefined && oldest.seq <= entry.seq;
  }

  dropOldest(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** The newest live entries with seq <= upToSeq that `matches`, at most `count`, newest first. */
  last(count: number, upToSeq: number, matches: (entry: Entry) => boolean): Entry[] {
    const found: Entry[] = [];
    for (let i = this.entries.length - 1; i >= this.head && found.length < count; i--) {
      const entry = this.entries[i]!;
      if (entry.seq <= upToSeq && matches(entry)) found.push(entry);
    }
    return found;
  }

  /** The live entries with seq > afterSeq, oldest first (binary search: the log is in seq order). */
  after(afterSeq: number): Entry[] {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo);
  }
}

/** What last() found: the frames, oldest first, and the seq of the oldest (undefined when none). */
export interface ReplayTail {
  readonly frames: Buffer[];
  readonly oldestSeq: number | undefined;
}

export type ReplayResult = { readonly complete: true; readonly frames: Buffer[] } | { readonly complete: false };

export class ReplayBuffer {
  private readonly log = new SeqLog();
  private bytes = 0;
  /** Newest evicted seq per subject, in eviction order (oldest first); at most maxEvents subjects. */
  private readonly evicted = new Map<string, number>();
  /** The same entries by subject, so a resume on literal topics reads only its own events. */
  private readonly bySubject = new Map<string, SeqLog>();
  /** Every event at or below this seq may be gone for any subject: the evicted map overflowed. */
  private forgottenUpTo = 0;

  constructor(
    private readonly bounds: ReplayBounds,
    private readonly now: () => number = Date.now,
    private readonly topicFramer: TopicFramer = (subject, frame) => Buffer.concat([Buffer.from(`topic: ${subject}\n`), frame]),
  ) {}

  get size(): number {
    return this.log.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  append(seq: number, subject: string, frame: Buffer): BufferedEvent {
    const entry: Entry = { seq, subject, frame, at: this.now(), topicFrame: undefined };
    this.log.push(entry);
    let subjectLog = this.bySubject.get(subject);
    if (!subjectLog) this.bySubject.set(subject, (subjectLog = new SeqLog()));
    subjectLog.push(entry);
    this.bytes += frame.length;
    this.trim();
    return entry;
  }

  /**
   * The event's frame with its `topic:` field: encoded once per event, on first use (by the live
   * fan-out or a replay), then kept beside the plain frame and counted in the byte bound.
   */
  withTopic(event: BufferedEvent): Buffer {
    const entry = event as Entry;
    if (!entry.topicFrame) {
      entry.topicFrame = this.topicFramer(entry.subject, entry.frame);
      // An entry already evicted (a buffer bounded to nothing) no longer counts against the bound.
      if (this.log.contains(entry)) this.bytes += entry.topicFrame.length;
    }
    return entry.topicFrame;
  }

  /**
   * The newest `count` events at or below `upToSeq` on subjects that `matches` (or on exactly
   * `subjects`, read from their own logs), oldest first: the backlog of `rewind=N`. Fewer when
   * fewer are retained; evictions do not matter here, as nothing after the oldest one returned is missing.
   */
  last(count: number, upToSeq: number, matches: { readonly subjects: readonly string[] } | ((subject: string) => boolean), withTopic = false): ReplayTail {
    this.trim();
    let found: Entry[];
    if (typeof matches === 'function') {
      found = this.log.last(count, upToSeq, (entry) => matches(entry.subject));
    } else {
      found = [];
      for (const subject of matches.subjects) found = found.concat(this.bySubject.get(subject)?.last(count, upToSeq, () => true) ?? []);
      found.sort((a, b) => b.seq - a.seq);
      found.length = Math.min(found.length, count);
    }
    found.reverse();
    return { frames: found.map((entry) => this.frameOf(entry, withTopic)), oldestSeq: found[0]?.seq };
  }

  /**
   * The frames after `afterSeq` whose subject `matches`, oldest first, or `complete: false` when an
   * event that matches may have been evicted (the caller then sends `hub.reset`).
   */
  after(afterSeq: number, matches: (subject: string) => boolean, withTopic = false): ReplayResult {
    this.trim();
    if (this.forgottenUpTo > afterSeq) return { complete: false };
    for (const [subject, seq] of this.evicted) {
      if (seq > afterSeq && matches(subject)) return { complete: false };
    }
    const frames: Buffer[] = [];
    for (const entry of this.log.after(afterSeq)) if (matches(entry.subject)) frames.push(this.frameOf(entry, withTopic));
    return { complete: true, frames };
  }

  /**
   * after() for literal subjects (a resume on topics, not wildcards: the usual case, and every
   * client's in a reconnect storm), in time proportional to the events on those subjects rather
   * than to everything buffered since `afterSeq`.
   */
  afterOnSubjects(afterSeq: number, subjects: readonly string[], withTopic = false): ReplayResult {
    this.trim();
    if (this.forgottenUpTo > afterSeq) return { complete: false };
    for (const subject of subjects) if ((this.evicted.get(subject) ?? 0) > afterSeq) return { complete: false };
    let found: Entry[] = [];
    for (const subject of subjects) {
      const entries = this.bySubject.get(subject)?.after(afterSeq);
      if (entries && entries.length > 0) found = found.length === 0 ? entries : found.concat(entries);
    }
    if (subjects.length > 1) found.sort((a, b) => a.seq - b.seq);
    return { complete: true, frames: found.map((entry) => this.frameOf(entry, withTopic)) };
  }

  private frameOf(entry: Entry, withTopic: boolean): Buffer {
    return withTopic ? this.withTopic(entry) : entry.frame;
  }

  /** Evict what is past any bound. Called on append and before reads. */
  trim(): void {
    const { maxEvents, maxBytes, maxAgeMs } = this.bounds;
    const oldest = this.now() - maxAgeMs;
    for (let entry = this.log.oldest(); entry; entry = this.log.oldest()) {
      if (this.size <= maxEvents && this.bytes <= maxBytes && entry.at >= oldest) break;
      this.evict(entry);
    }
  }

  private evict(entry: Entry): void {
    this.log.dropOldest();
    this.bytes -= entry.frame.length + (entry.topicFrame?.length ?? 0);
    // Eviction goes in seq order, so the entry is the oldest of its subject's log too.
    const subjectLog = this.bySubject.get(entry.subject)!;
    subjectLog.dropOldest();
    if (subjectLog.size === 0) this.bySubject.delete(entry.subject);
    // Re-insert so the map stays in eviction order and the first key is always the oldest.
    this.evicted.delete(entry.subject);
    this.evicted.set(entry.subject, entry.seq);
    if (this.evicted.size > this.bounds.maxEvents) {
      const [subject, seq] = this.evicted.entries().next().value as [string, number];
      this.evicted.delete(subject);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, seq);
    }
  }
}
