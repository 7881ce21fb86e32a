/**
 * History older than the replay buffer, read back from the stream: one filtered consumer per
 * pattern (one consumer with several filter subjects needs a 2.10 server; Debian ships 2.9).
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import type { BusMessage, HistoryResult } from '../bus.js';
import { toBusMessage } from '../nats-message.js';

// Bounds one history read: messages per fetch, and how long a fetch may wait for more.
const HISTORY_BATCH = 256;
const HISTORY_FETCH_MS = 2000;

/** The arguments of `Bus.history`, named. */
export interface HistoryRequest {
  readonly afterSeq: number;
  readonly upToSeq: number;
  readonly patterns: readonly string[];
  readonly limit: number;
}

export async function readHistory(js: JetStreamClient, jsm: JetStreamManager, stream: string, { afterSeq, upToSeq, patterns, limit }: HistoryRequest): Promise<HistoryResult> {
  const { state } = await jsm.streams.info(stream);
  // The stream no longer holds what came right after the id; what was lost cannot be known.
  if (state.messages === 0 ? state.last_seq > afterSeq : state.first_seq > afterSeq + 1) return { complete: false, reason: 'history-gone' };
  const found = new Map<number, BusMessage>();
  for (const pattern of patterns) {
    const consumer = await js.consumers.get(stream, {
      filterSubjects: pattern,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
    });
    try {
      // Ask for exactly what is pending: a fetch for more than there is would wait out its expiry.
      let pending = (await consumer.info()).num_pending;
      read: while (pending > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(HISTORY_BATCH, pending), expires: HISTORY_FETCH_MS });
        let got = 0;
        for await (const m of batch) {
          got++;
          if (m.seq > upToSeq) break read;
          found.set(m.seq, toBusMessage(m, m.seq));
          if (found.size > limit) return { complete: false, reason: 'too-far-behind' };
          pending = m.info.pending;
        }
        if (got === 0) break;
      }
    } finally {
      // Ephemeral consumers would linger on the server until their inactivity threshold: a storm
      // of resumes must not pile them up.
      await consumer.delete().catch(() => {});
    }
  }
  return { complete: true, messages: [...found.values()].sort((a, b) => a.seq - b.seq) };
}
