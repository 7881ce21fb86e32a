/**
 * A stream's next topic set from its current one and a change, with the rules a stream's topics
 * obey (at least one, at most HUB_MAX_TOPICS). Pure, so the rules are stated and tested once.
 */
import { ErrorCode, HubError } from '../errors.js';

export interface TopicSetChange {
  /** Patterns to subscribe to: in `add`, not held yet. */
  readonly added: readonly string[];
  /** Patterns to let go: in `remove` and held. */
  readonly removed: readonly string[];
  readonly next: readonly string[];
}

/** `remove` wins over `add` for a pattern in both; patterns held or absent already change nothing. */
export function planTopicChange(current: readonly string[], add: readonly string[], remove: readonly string[], maxTopics: number): TopicSetChange | HubError {
  const removing = new Set(remove);
  const held = new Set(current);
  const added = [...new Set(add)].filter((pattern) => !held.has(pattern) && !removing.has(pattern));
  const removed = current.filter((pattern) => removing.has(pattern));
  const next = [...current.filter((pattern) => !removing.has(pattern)), ...added];
  if (next.length === 0) return new HubError(ErrorCode.NoTopic, 'the change would leave the stream without a topic; close it instead');
  if (next.length > maxTopics) {
    return new HubError(ErrorCode.TooManyTopics, `at most ${maxTopics} topics per stream; the change would make ${next.length}`);
  }
  return { added, removed, next };
}
