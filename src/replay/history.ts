/**
 * The one history port a resume reads: the replay buffer first, then the bus's own history where
 * the bus keeps one (JetStream). It is composed once, from what the bus offers, so nothing that
 * reads it asks which bus it has.
 */
import type { Bus, BusMessage } from '../bus/bus.js';
import { hasWildcard, subjectMatches } from '../topics/subject.js';
import type { ReplayBuffer } from './buffer.js';

export const ResetReason = {
  /** The id is not from this hub's sequence (another process, malformed, or from the future). */
  UnknownId: 'unknown-id',
  /** Events after the id on these topics were evicted from the replay buffer (and the bus keeps none). */
  HistoryGone: 'history-gone',
  /** This node was not subscribed to one of the topics for the whole gap. */
  NotCovered: 'not-covered',
  /** More events were missed than one resume may read back (HUB_HISTORY_MAX_EVENTS). */
  TooFarBehind: 'too-far-behind',
  /** The bus was away; events published meanwhile may never have reached this node. */
  BusReconnected: 'bus-reconnected',
} as const;
export type ResetReason = (typeof ResetReason)[keyof typeof ResetReason];

/** Frames, then live: every missed event, oldest first, as the bytes live streams got. */
export interface Replay {
  readonly kind: 'replay';
  readonly frames: readonly Buffer[];
}

/** Reset, then live: what was missed cannot be known, so the client starts over. */
export interface Reset {
  readonly kind: 'reset';
  readonly reason: ResetReason;
}

export type CatchUp = Replay | Reset;

export interface HistoryQuery {
  /** The seq of the stream's Last-Event-ID: the events after it were missed. */
  readonly after: number;
  /** The position the stream joins the live fan-out at: the events up to it are history. */
  readonly upTo: number;
  readonly patterns: readonly string[];
  /** The latest seq from which this node has received every event on all of the patterns. */
  readonly coveredSince: number;
}

export interface History {
  /** At once when the replay buffer answers; a promise when the bus's history must be read. */
  read(query: HistoryQuery): CatchUp | Promise<CatchUp>;
}

export interface HistorySources {
  readonly replay: ReplayBuffer;
  /** The bus's own history (`Bus.history`, bound), where it keeps one. */
  readonly bus: Bus['history'];
  /** The one encoding of a bus message, or undefined when it may not be sent. */
  readonly frameFor: (msg: BusMessage) => Buffer | undefined;
  /** How many events one resume may read back from the bus (HUB_HISTORY_MAX_EVENTS). */
  readonly maxBusEvents: number;
}

/** Composed once per hub, from what its bus offers. */
export function composeHistory({ replay, bus, frameFor, maxBusEvents }: HistorySources): History {
  if (!bus) {
    return {
      read: (query) => {
        if (query.coveredSince > query.after) return reset(ResetReason.NotCovered);
        return fromBuffer(replay, query) ?? reset(ResetReason.HistoryGone);
      },
    };
  }
  // Resumes that shared one read of the bus get the same message objects: each is encoded once,
  // and every one of them writes the same bytes. Weak, so the frames go with the read's results.
  const encoded = new WeakMap<BusMessage, Buffer | null>();
  const encodeOnce = (msg: BusMessage): Buffer | undefined => {
    let frame = encoded.get(msg);
    if (frame === undefined) encoded.set(msg, (frame = frameFor(msg) ?? null));
    return frame ?? undefined;
  };
  const fromBus = async ({ after, upTo, patterns }: HistoryQuery): Promise<CatchUp> => {
    const history = await bus(after, upTo, patterns, maxBusEvents);
    if (!history.complete) return reset(history.reason);
    const frames: Buffer[] = [];
    for (const msg of history.messages) {
      const frame = encodeOnce(msg);
      if (frame) frames.push(frame);
    }
    return { kind: 'replay', frames };
  };
  // The buffer is only worth reading when this node saw the whole gap.
  return { read: (query) => (query.coveredSince <= query.after && fromBuffer(replay, query)) || fromBus(query) };
}

function fromBuffer(replay: ReplayBuffer, { after, patterns }: HistoryQuery): Replay | undefined {
  // Literal topics read their own per-subject log; only wildcards scan the whole buffer.
  const found = patterns.some(hasWildcard)
    ? replay.after(after, (subject) => patterns.some((pattern) => subjectMatches(pattern, subject)))
    : replay.afterOnSubjects(after, patterns);
  return found.complete ? { kind: 'replay', frames: found.frames } : undefined;
}

function reset(reason: ResetReason): Reset {
  return { kind: 'reset', reason };
}
