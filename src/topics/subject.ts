/**
 * Topic and subject rules. A topic is a NATS subject relative to the hub's prefix:
 * topic `orders.42` is subject `sse.orders.42`. Matching follows NATS exactly:
 * `*` matches one token, `>` matches one or more trailing tokens.
 */
import { badTopic, type HubError } from '../errors.js';

// NATS forbids whitespace in subjects; control characters have no business there either.
const FORBIDDEN = /[\s\u0000-\u001f\u007f]/u;

export interface TopicRules {
  readonly maxLength: number;
  readonly allowWildcards: boolean;
}

/** Returns a HubError describing what is wrong with `topic`, or undefined when it is valid. */
export function checkTopic(topic: string, rules: TopicRules): HubError | undefined {
  if (topic === '') return badTopic(topic, 'is empty');
  if (topic.length > rules.maxLength) return badTopic(topic.slice(0, 32) + '…', `is longer than ${rules.maxLength} characters`);
  if (FORBIDDEN.test(topic)) return badTopic(topic, 'contains whitespace or a control character');
  const tokens = topic.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '') return badTopic(topic, `has an empty token at position ${i + 1} (leading, trailing or doubled ".")`);
    const wildcard = token === '*' || token === '>';
    if (wildcard && !rules.allowWildcards) return badTopic(topic, 'wildcards (* and >) are not allowed here');
    if (!wildcard && (token.includes('*') || token.includes('>'))) {
      return badTopic(topic, `token "${token}": * and > must stand alone as a whole token`);
    }
    if (token === '>' && i !== tokens.length - 1) return badTopic(topic, '">" must be the last token');
  }
  return undefined;
}

export function hasWildcard(topic: string): boolean {
  return topic.split('.').some((t) => t === '*' || t === '>');
}

/** Returns a problem description for a bad prefix, or undefined. */
export function validateSubjectPrefix(prefix: string): string | undefined {
  const problem = checkTopic(prefix, { maxLength: 128, allowWildcards: false });
  return problem ? `must be a literal NATS subject: ${problem.message}` : undefined;
}

/** Does `subject` (literal) match `pattern` (may hold wildcards)? Both as dot-separated strings. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  // A literal pattern matches only itself: skip the splitting (a resume tests every replayed event).
  if (!pattern.includes('*') && !pattern.includes('>')) return false;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Maps topics to bus subjects and back, under one prefix. */
export class SubjectSpace {
  private readonly head: string;
  constructor(readonly prefix: string) {
    this.head = prefix + '.';
  }
  toSubject(topic: string): string {
    return this.head + topic;
  }
  /** The topic of a bus subject, or undefined when the subject is outside the prefix. */
  toTopic(subject: string): string | undefined {
    return subject.startsWith(this.head) && subject.length > this.head.length ? subject.slice(this.head.length) : undefined;
  }
  /** The pattern covering every topic: `<prefix>.>`. */
  get all(): string {
    return this.head + '>';
  }
}
