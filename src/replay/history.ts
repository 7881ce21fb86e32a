/**
 * The one history port a resume reads: the replay buffer first, then the bus's own history where
 * the bus keeps one (JetStream). It is composed once, from what the bus offers, so nothing that
 * reads it asks which bus it has.
 */
import type { Bus, BusMessage } from '../bus/bus.js';
import { hasWildcard, subjectMatches } from '../topics/subject.js';
import type { ReplayBuffer, ReplayTail } from './buffer.js';

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
  /** The stream asked for `fields=topic`: frames carry their `topic:` line. */
  readonly withTopic?: boolean;
}

/** `rewind=N`: the newest `count` retained events up to the position, on the stream's patterns. */
export interface TailQuery {
  readonly upTo: number;
  readonly count: number;
  readonly patterns: readonly string[];
  readonly coveredSince: number;
  readonly withTopic: boolean;
}

export interface History {
  /** At once when the replay buffer answers; a promise when the bus's history must be read. */
  read(query: HistoryQuery): CatchUp | Promise<CatchUp>;
  /** The backlog of `rewind=N`, oldest first: fewer frames when fewer are retained, never a reset. */
  tail(query: TailQuery): readonly Buffer[] | Promise<readonly Buffer[]>;
}

export interface HistorySources {
  readonly replay: ReplayBuffer;
  /** The bus's own history (`Bus.history`, bound), where it keeps one. */
  readonly bus: Bus['history'];
  /** The bus's newest events (`Bus.tail`, bound), where it keeps history. */
  readonly busTail?: Bus['tail'];
  /** The one encoding of a bus message (with its `topic:` line when asked), or undefined when it may not be sent. */
  readonly frameFor: (msg: BusMessage, withTopic?: boolean) => Buffer | undefined;
  /** How many events one resume may read back from the bus (HUB_HISTORY_MAX_EVENTS). */
  readonly maxBusEvents: number;
}

/** Composed once per hub, from what its bus offers. */
export function composeHistory({ replay, bus, busTail, frameFor, maxBusEvents }: HistorySources): History {
  if (!bus) {
    return {
      read: (query) => {
        if (query.coveredSince > query.after) return reset(ResetReason.NotCovered);
        return fromBuffer(replay, query) ?? reset(ResetReason.HistoryGone);
      },
      // The buffer is all there is: what it holds on these topics is what is retained.
      tail: (query) => tailOfBuffer(replay, query).frames,
    };
  }
  // Resumes that shared one read of the bus get the same message objects: each is encoded once per
  // variant, and every one of them writes the same bytes. Weak, so the frames go with the read's results.
  const encoded = { plain: new WeakMap<BusMessage, Buffer | null>(), withTopic: new WeakMap<BusMessage, Buffer | null>() };
  const encode = (messages: readonly BusMessage[], withTopic: boolean): Buffer[] => {
    const cache = withTopic ? encoded.withTopic : encoded.plain;
    const frames: Buffer[] = [];
    for (const msg of messages) {
      let frame = cache.get(msg);
      if (frame === undefined) cache.set(msg, (frame = frameFor(msg, withTopic) ?? null));
      if (frame) frames.push(frame);
    }
    return frames;
  };
  const fromBus = async ({ after, upTo, patterns, withTopic = false }: HistoryQuery): Promise<CatchUp> => {
    const history = await bus(after, upTo, patterns, maxBusEvents);
    if (!history.complete) return reset(history.reason);
    return { kind: 'replay', frames: encode(history.messages, withTopic) };
  };
  return {
    // The buffer is only worth reading when this node saw the whole gap.
    read: (query) => (query.coveredSince <= query.after && fromBuffer(replay, query)) || fromBus(query),
    tail: (query) => {
      // The buffer answers when it holds all `count` and this node saw every event since the oldest of them.
      const found = tailOfBuffer(replay, query);
      if (!busTail || (found.frames.length === query.count && found.oldestSeq !== undefined && found.oldestSeq > query.coveredSince)) return found.frames;
      return busTail(query.upTo, query.patterns, query.count).then((messages) => encode(messages, query.withTopic));
    },
  };
}

function fromBuffer(replay: ReplayBuffer, { after, patterns, withTopic = false }: HistoryQuery): Replay | undefined {
  // Literal topics read their own per-subject log; only wildcards scan the whole buffer.
  const found = patterns.some(hasWildcard)
    ? replay.after(after, (subject) => patterns.some((pattern) => subjectMatches(pattern, subject)), withTopic)
    : replay.afterOnSubjects(after, patterns, withTopic);
  return found.complete ? { kind: 'replay', frames: found.frames } : undefined;
}

function tailOfBuffer(replay: ReplayBuffer, { upTo, count, patterns, withTopic }: TailQuery): ReplayTail {
  const matches = patterns.some(hasWildcard) ? (subject: string) => patterns.some((pattern) => subjectMatches(pattern, subject)) : { subjects: patterns };
  return replay.last(count, upTo, matches, withTopic);
}

function reset(reason: ResetReason): Reset {
  return { kind: 'reset', reason };
}
