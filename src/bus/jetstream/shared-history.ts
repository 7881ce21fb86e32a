/**
 * History reads shared and bounded. A rollout brings every client of a pod back at once, to workers
 * whose replay buffers start empty: each resume would read the stream on its own, one consumer on
 * the server apiece. Here at most `maxConcurrent` reads run at once, and resumes of the same
 * patterns from the same seq share one read: a read not yet started takes every such resume that
 * comes meanwhile and reads up to the furthest `upToSeq` among them; a running one takes those whose
 * `upToSeq` it already covers. Each resume gets exactly its own slice, `(afterSeq, upToSeq]`.
 *
 * Queued reads are bounded by the streams resuming (one each), which HUB_MAX_CONNECTIONS bounds.
 */
import type { BusMessage, HistoryResult } from '../bus.js';
import type { HistoryRequest } from './history.js';

interface Member {
  readonly upToSeq: number;
  resolve(result: HistoryResult): void;
  reject(err: unknown): void;
}

interface Read {
  readonly key: string;
  readonly afterSeq: number;
  readonly patterns: readonly string[];
  readonly limit: number;
  /** The furthest `upToSeq` of its members: fixed once the read starts. */
  upToSeq: number;
  started: boolean;
  readonly members: Member[];
}

export type ReadHistory = (request: HistoryRequest) => Promise<HistoryResult>;

export class SharedHistory {
  /** Reads that still take members, by what they read: queued ones, and running ones (for covered members). */
  private readonly open = new Map<string, Read>();
  private readonly queue: Read[] = [];
  private running = 0;

  constructor(
    private readonly read: ReadHistory,
    private readonly maxConcurrent: number,
  ) {}

  get(request: HistoryRequest): Promise<HistoryResult> {
    return new Promise<HistoryResult>((resolve, reject) => {
      const member: Member = { upToSeq: request.upToSeq, resolve, reject };
      const key = readKey(request);
      const read = this.open.get(key);
      if (read && (!read.started || read.upToSeq >= request.upToSeq)) {
        if (!read.started) read.upToSeq = Math.max(read.upToSeq, request.upToSeq);
        read.members.push(member);
        return;
      }
      const fresh: Read = { key, afterSeq: request.afterSeq, patterns: request.patterns, limit: request.limit, upToSeq: request.upToSeq, started: false, members: [member] };
      // A running read that does not cover this one stays running; new members now join the fresh one.
      this.open.set(key, fresh);
      this.queue.push(fresh);
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.maxConcurrent && this.queue.length > 0) void this.run(this.queue.shift()!);
  }

  private async run(read: Read): Promise<void> {
    read.started = true;
    this.running++;
    let result: HistoryResult | undefined;
    let failure: unknown;
    try {
      result = await this.read({ afterSeq: read.afterSeq, upToSeq: read.upToSeq, patterns: read.patterns, limit: read.limit });
    } catch (err) {
      failure = err;
    }
    // Closed to newcomers before its members are answered: one read again on its own must not join it.
    if (this.open.get(read.key) === read) this.open.delete(read.key);
    this.running--;
    if (result) this.settle(read, result);
    else for (const member of read.members) member.reject(failure);
    this.next();
  }

  private settle(read: Read, result: HistoryResult): void {
    for (const member of read.members) {
      if (result.complete) member.resolve(member.upToSeq === read.upToSeq ? result : { complete: true, messages: upTo(result.messages, member.upToSeq) });
      else if (result.reason !== 'too-far-behind' || member.upToSeq === read.upToSeq) member.resolve(result);
      // Too many events up to the read's end says nothing certain about a shorter gap: read it alone
      // (a member of a fresh read of its own, so it is still bounded by maxConcurrent).
      else this.get({ afterSeq: read.afterSeq, upToSeq: member.upToSeq, patterns: read.patterns, limit: read.limit }).then(member.resolve, member.reject);
    }
  }
}

/** Same patterns (in any order), same start, same bound: the same read. */
function readKey({ afterSeq, patterns, limit }: HistoryRequest): string {
  return `${afterSeq} ${limit} ${[...patterns].sort().join(' ')}`;
}

/** The messages (in seq order) up to `seq`. */
function upTo(messages: readonly BusMessage[], seq: number): BusMessage[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1]!.seq > seq) end--;
  return messages.slice(0, end);
}
