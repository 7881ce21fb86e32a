/**
 * What nodes ask each other on the control channel, and what they answer: JSON, one request per
 * message. Topics travel prefix-relative, already checked and authorized by the node that took
 * the HTTP request; the node that answers applies its own rules (key, HUB_MAX_TOPICS).
 */
import type { ErrorCode } from '../errors.js';

export type ControlRequest =
  /** POST /streams/<id>/topics, sent to the node in the stream's id. */
  | { readonly op: 'stream-topics'; readonly stream: string; readonly key: string; readonly add: readonly string[]; readonly remove: readonly string[] }
  /** POST /users/<sub>/topics, sent to every node. */
  | { readonly op: 'user-topics'; readonly user: string; readonly add: readonly string[]; readonly remove: readonly string[] }
  /** GET /presence, sent to every node; `subject` is literal and prefixed. */
  | { readonly op: 'presence'; readonly subject: string };

/** One node's answer: what it did, or the refusal (a HubError's code and message). */
export type ControlAnswer =
  | { readonly node: string; readonly ok: true; readonly body: unknown }
  | { readonly node: string; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** The answer to `user-topics`. */
export interface UserTopicsAnswer {
  readonly streams: number;
  readonly unchanged: number;
}

/** The answer to `presence`: this node's streams, and per user how many of them, sorted by user. */
export interface PresenceAnswer {
  readonly streams: number;
  readonly users: ReadonlyArray<readonly [user: string, streams: number]>;
}

/** A heartbeat: the node that sends it is alive. */
export interface Beat {
  readonly node: string;
}
