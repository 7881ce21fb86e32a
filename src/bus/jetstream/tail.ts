/**
 * The newest events on some patterns, read from the stream: the backlog of `rewind=N` when the
 * replay buffer does not hold it. A stream cannot be read backwards, so for each pattern the start
 * is found by bisecting on the stream sequence, counting matches with a filtered consumer's
 * `num_pending` (one consumer per probe, deleted at once): at most ~log2(stream length) probes
 * (about 30 for a billion messages), then exactly the matches wanted are fetched.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import type { BusMessage } from '../bus.js';
import { readHistory } from './history.js';

export interface TailRequest {
  readonly upToSeq: number;
  readonly patterns: readonly string[];
  readonly count: number;
}

export async function readTail(js: JetStreamClient, jsm: JetStreamManager, stream: string, { upToSeq, patterns, count }: TailRequest): Promise<BusMessage[]> {
  const { state } = await jsm.streams.info(stream);
  if (state.messages === 0 || count <= 0) return [];
  const first = state.first_seq;
  const found = new Map<number, BusMessage>();
  for (const pattern of patterns) {
    /** Messages on `pattern` with seq in [from, upToSeq]. */
    const beyond = await pendingFrom(js, stream, pattern, upToSeq + 1);
    const matching = async (from: number): Promise<number> => (await pendingFrom(js, stream, pattern, from)) - beyond;
    let start = first;
    if ((await matching(first)) > count) {
      // The largest start that still leaves `count` matches: matching() only falls as start grows.
      let lo = first;
      let hi = upToSeq;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if ((await matching(mid)) >= count) lo = mid;
        else hi = mid - 1;
      }
      start = lo;
    }
    const read = await readHistory(js, jsm, stream, { afterSeq: start - 1, upToSeq, patterns: [pattern], limit: count });
    // Messages purged meanwhile make the read incomplete; the backlog is then what is left, fetched anew.
    if (read.complete) for (const msg of read.messages) found.set(msg.seq, msg);
  }
  return [...found.values()].sort((a, b) => a.seq - b.seq).slice(-count);
}

async function pendingFrom(js: JetStreamClient, stream: string, pattern: string, from: number): Promise<number> {
  const consumer = await js.consumers.get(stream, { filterSubjects: pattern, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
  try {
    return (await consumer.info()).num_pending;
  } finally {
    await consumer.delete().catch(() => {});
  }
}
