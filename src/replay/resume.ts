/**
 * Catch up, then go live: a stream that just joined the fan-out gets what it missed after its
 * Last-Event-ID (from the history port), or a `hub.reset`, then the position frame, then the live
 * events. Live events that arrive while the bus's history is read are held by the connection and
 * written after it.
 */
import type { Logger } from '../log.js';
import type { HubMetrics } from '../metrics.js';
import { CloseReason, type SseConnection } from '../sse/connection.js';
import { HubEventType, encodeFrame } from '../sse/frame.js';
import { formatEventId, parseEventId } from './event-id.js';
import { ResetReason, type CatchUp, type History } from './history.js';

export type ResumePlan =
  | CatchUp
  /** The id is ahead of this node (cluster-wide ids, another replica was faster): skip up to it. */
  | { readonly kind: 'ahead'; readonly after: number }
  /** The bus's history is being read: the catch-up comes when it is in. */
  | { readonly kind: 'history'; readonly read: Promise<CatchUp> };

export interface ResumeContext {
  readonly epoch: string;
  /** The bus head when the stream joins the live fan-out. */
  readonly position: number;
  /** Every node numbers events alike (`Bus.clusterWideIds`). */
  readonly clusterWideIds: boolean;
  /** The latest moment (seq) from which all of the stream's patterns have been covered. */
  readonly coveredSince: number;
  readonly patterns: readonly string[];
  readonly history: History;
  readonly withTopic?: boolean;
}

export function planResume(lastEventId: string, ctx: ResumeContext): ResumePlan {
  const parsed = parseEventId(lastEventId, ctx.epoch);
  if (!parsed.known) return { kind: 'reset', reason: ResetReason.UnknownId };
  const after = parsed.seq;
  if (after > ctx.position) return ctx.clusterWideIds ? { kind: 'ahead', after } : { kind: 'reset', reason: ResetReason.UnknownId };
  const read = ctx.history.read({ after, upTo: ctx.position, patterns: ctx.patterns, coveredSince: ctx.coveredSince, withTopic: ctx.withTopic });
  return read instanceof Promise ? { kind: 'history', read } : read;
}

export interface ResumerOptions {
  readonly history: History;
  /** `Bus.clusterWideIds`. */
  readonly clusterWideIds: boolean;
  /** `Bus.epoch`, read at each use: JetStream learns its epoch once its stream is set up. */
  readonly epoch: () => string;
  readonly metrics: HubMetrics;
  readonly log: Logger;
  /** The `hub.open` event's data for `conn`, asked for as it goes live (its stream id and key). */
  readonly openData: (conn: SseConnection) => string;
}

export class Resumer {
  constructor(private readonly options: ResumerOptions) {}

  /**
   * `conn` has just joined the fan-out at `position`, and no bus message can arrive before this
   * returns: what is written now comes before any live event, so nothing is lost or repeated.
   */
  start(conn: SseConnection, lastEventId: string | undefined, position: number, coveredSince: number, rewind = 0): void {
    conn.holdLive();
    if (lastEventId === undefined) return rewind > 0 ? void this.rewind(conn, rewind, position, coveredSince) : this.goLive(conn, position);
    const { history, clusterWideIds } = this.options;
    const plan = planResume(lastEventId, { epoch: this.options.epoch(), position, clusterWideIds, coveredSince, patterns: conn.patterns, history, withTopic: conn.withTopic });
    if (plan.kind === 'ahead') return this.goLive(conn, plan.after);
    if (plan.kind === 'history') return void this.finishFromBus(conn, lastEventId, plan.read, position);
    this.finish(conn, plan, lastEventId, position);
  }

  /** The bus was away and may have lost events: a joined stream starts over from `position`. */
  resetAfterLoss(conn: SseConnection, position: number): void {
    this.reset(conn, ResetReason.BusReconnected, formatEventId(this.options.epoch(), conn.lastSeq), position);
  }

  private async finishFromBus(conn: SseConnection, lastEventId: string, read: Promise<CatchUp>, position: number): Promise<void> {
    try {
      const catchUp = await read;
      if (conn.closed) return;
      this.finish(conn, catchUp, lastEventId, position);
    } catch (err) {
      // The client keeps its Last-Event-ID and tries again after its retry delay: no reset needed.
      this.options.log.warn({ err, conn: conn.id }, 'reading history from the bus failed; closing the stream');
      conn.close(CloseReason.BusUnavailable);
    }
  }

  /**
   * `rewind=N` without a Last-Event-ID (which wins): the newest N retained events on the stream's
   * topics, then live. Fewer is no loss the client was promised, so never a `hub.reset`.
   */
  private async rewind(conn: SseConnection, count: number, position: number, coveredSince: number): Promise<void> {
    try {
      const frames = await this.options.history.tail({ upTo: position, count, patterns: conn.patterns, coveredSince, withTopic: conn.withTopic });
      if (conn.closed) return;
      this.replay(conn, frames);
      this.goLive(conn, position);
    } catch (err) {
      this.options.log.warn({ err, conn: conn.id }, 'reading the rewind backlog from the bus failed; closing the stream');
      conn.close(CloseReason.BusUnavailable);
    }
  }

  private finish(conn: SseConnection, catchUp: CatchUp, lastEventId: string, position: number): void {
    if (catchUp.kind === 'replay') this.replay(conn, catchUp.frames);
    else this.reset(conn, catchUp.reason, lastEventId, position);
    this.goLive(conn, position);
  }

  private replay(conn: SseConnection, frames: readonly Buffer[]): void {
    const bytes = conn.sendReplay(frames);
    const { metrics } = this.options;
    metrics.replaysServed.inc();
    metrics.eventsDelivered.inc(frames.length);
    metrics.bytesWritten.inc(bytes);
  }

  private reset(conn: SseConnection, reason: ResetReason, lastEventId: string, position: number): void {
    const data = JSON.stringify({ reason, lastEventId });
    // The reset carries the current position as its id: a reconnect after it resumes from here.
    conn.send(encodeFrame({ id: formatEventId(this.options.epoch(), position), event: HubEventType.Reset, data }));
    conn.positionAt(position);
    this.options.metrics.resetsSent.inc({ reason });
  }

  /**
   * Always after any replay: its id is the position, so a reconnect from here (even by a client that
   * got no event at all) resumes exactly; it also tells the client it is live now.
   */
  private goLive(conn: SseConnection, position: number): void {
    conn.positionAt(position);
    conn.send(encodeFrame({ id: formatEventId(this.options.epoch(), position), event: HubEventType.Open, data: this.options.openData(conn) }));
    conn.goLive();
  }
}
