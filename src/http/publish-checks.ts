/** What one event of a publish must be, the same for `?topic=` and for each event of a batch. */
import { ErrorCode, HubError } from '../errors.js';
import { checkEventType } from '../sse/frame.js';
import { checkTopic, type TopicRules } from '../topics/subject.js';

export interface EventRules {
  readonly topic: TopicRules;
  readonly maxEventTypeLength: number;
  readonly maxEventBytes: number;
}

export function checkPublishTopic(topic: string, rules: EventRules): HubError | undefined {
  const problem = checkTopic(topic, rules.topic);
  if (!problem) return undefined;
  return problem.message.includes('wildcards') ? new HubError(ErrorCode.WildcardPublish, problem.message) : problem;
}

/** `message` is the default type: it is sent as no `event:` line at all. */
export function checkPublishEventType(eventType: string | undefined, rules: EventRules): { eventType: string | undefined } | HubError {
  if (eventType === undefined || eventType === 'message') return { eventType: undefined };
  const problem = checkEventType(eventType, rules.maxEventTypeLength);
  if (problem) return new HubError(ErrorCode.BadEventType, `event type ${JSON.stringify(eventType.slice(0, 64))}: ${problem}`);
  return { eventType };
}
