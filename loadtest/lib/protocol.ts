/**
 * What the orchestrator, its subscriber processes and the published events agree on.
 *
 * Every event's payload is `<n> <sentAt>`: n counts the events published to that topic (0, 1, 2,
 * ...) so a subscriber can tell lost from duplicated ones, and sentAt is the publisher's wall clock
 * in ms with µs decimals (performance.timeOrigin + performance.now(): comparable across processes
 * on one machine) for publish-to-receive latency.
 */

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function encodePayload(n: number, sentAt: number): string {
  return `${n} ${sentAt.toFixed(3)}`;
}

/** Parses a payload this tool made; undefined for anything else. */
export function parsePayload(data: string): { n: number; sentAt: number } | undefined {
  const space = data.indexOf(' ');
  if (space <= 0) return undefined;
  const n = Number(data.slice(0, space));
  const sentAt = Number(data.slice(space + 1));
  return Number.isInteger(n) && Number.isFinite(sentAt) ? { n, sentAt } : undefined;
}

/** How a target tells a subscriber it is live (events published from then on will reach it). */
export type ReadyMarker = 'hub.open' | 'comment' | 'headers';

export interface SubscriberPlan {
  readonly port: number;
  /** Request path with `{topic}` in place of the topic name. */
  readonly pathTemplate: string;
  readonly topics: readonly string[];
  /** This process opens connections first..first+count-1; connection i subscribes to topics[i % topics.length]. */
  readonly first: number;
  readonly count: number;
  readonly readyMarker: ReadyMarker;
  /** Connects in flight at once, per process. */
  readonly connectConcurrency: number;
}

export type ToSubscriber =
  | { type: 'plan'; plan: SubscriberPlan }
  | { type: 'connect' }
  /** Drop every connection at once and reconnect each with Last-Event-ID (the reconnect storm). */
  | { type: 'drop' }
  /** Publishing is over: how many events each topic got. Reply with stats and exit. */
  | { type: 'finish'; published: readonly number[] };

export interface SubscriberStats {
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly resets: number;
  /** Connections the server closed or that failed (not counting the ones we dropped on purpose). */
  readonly broken: number;
  readonly firstDeliveryAt: number;
  readonly lastDeliveryAt: number;
  /** Reconnect storm: when the last connection had caught up (got an event sent after it was back), or 0. */
  readonly caughtUpAt: number;
  /** Reconnect storm: connections that never caught up. */
  readonly notCaughtUp: number;
  readonly latency: { counts: number[]; maxMs: number };
}

export type FromSubscriber =
  | { type: 'started' }
  | { type: 'ready'; failed: number; firstError: string | undefined }
  | { type: 'progress'; delivered: number }
  | { type: 'reconnected'; failed: number; firstError: string | undefined }
  | { type: 'stats'; stats: SubscriberStats };
