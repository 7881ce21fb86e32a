/**
 * Deciding how a stream that sent Last-Event-ID catches up: from the replay buffer, from the bus's
 * own history, not at all (its id is ahead of this node), or with a `hub.reset`.
 */
import { hasWildcard, subjectMatches } from '../bus/subject.js';
import type { ReplayBuffer } from './buffer.js';
import { parseEventId } from './event-id.js';

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

export type ResumePlan =
  /** Everything missed is in the replay buffer: these frames, then live. */
  | { readonly kind: 'replay'; readonly frames: readonly Buffer[]; readonly lastSeq: number }
  /** The id is ahead of this node (shared ids, another replica was faster): skip up to it. */
  | { readonly kind: 'ahead'; readonly after: number }
  /** Read (after, position] back from the bus before going live. */
  | { readonly kind: 'history'; readonly after: number }
  | { readonly kind: 'reset'; readonly reason: ResetReason };

export interface ResumeContext {
  readonly epoch: string;
  /** The bus head when the stream joins the live fan-out. */
  readonly position: number;
  /** Ids are the same on every node (JetStream). */
  readonly sharedIds: boolean;
  /** The bus can read history back (JetStream). */
  readonly busHasHistory: boolean;
  /** The latest moment (seq) from which all of the stream's patterns have been covered. */
  readonly coveredSince: number;
  readonly replay: ReplayBuffer;
  readonly patterns: readonly string[];
}

export function planResume(lastEventId: string, ctx: ResumeContext): ResumePlan {
  const parsed = parseEventId(lastEventId, ctx.epoch);
  if (!parsed.known) return { kind: 'reset', reason: ResetReason.UnknownId };
  const after = parsed.seq;
  if (after > ctx.position) return ctx.sharedIds ? { kind: 'ahead', after } : { kind: 'reset', reason: ResetReason.UnknownId };

  const fallback: ResumePlan = ctx.busHasHistory ? { kind: 'history', after } : { kind: 'reset', reason: ResetReason.NotCovered };
  if (ctx.coveredSince > after) return fallback;
  // Literal topics read their own per-subject log; only wildcards scan the whole buffer.
  const replay = ctx.patterns.some(hasWildcard)
    ? ctx.replay.after(after, (subject) => ctx.patterns.some((pattern) => subjectMatches(pattern, subject)))
    : ctx.replay.afterOnSubjects(after, ctx.patterns);
  if (!replay.complete) return ctx.busHasHistory ? fallback : { kind: 'reset', reason: ResetReason.HistoryGone };
  return { kind: 'replay', frames: replay.frames, lastSeq: replay.lastSeq };
}
