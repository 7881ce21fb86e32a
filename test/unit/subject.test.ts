import { describe, expect, it } from 'vitest';
import { checkTopic, hasWildcard, subjectMatches, SubjectSpace, validateSubjectPrefix } from '../../src/topics/subject.js';
import { PatternIndex } from '../../src/topics/pattern-index.js';

const rules = { maxLength: 64, allowWildcards: true };

describe('checkTopic', () => {
  it.each(['orders', 'orders.42', 'orders.*', 'orders.>', '*', '>', '*.*.>', 'a-b_c.D9', 'ünicode.topic'])('accepts %j', (topic) => {
    expect(checkTopic(topic, rules)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['.orders', /empty token at position 1/],
    ['orders.', /empty token at position 2/],
    ['orders..42', /empty token/],
    ['orders 42', /whitespace/],
    ['orders\t42', /whitespace/],
    ['orders\u000042', /control/],
    ['orders.>.x', /must be the last token/],
    ['orders.4*', /whole token/],
    ['orders.>x', /whole token/],
    ['x'.repeat(65), /longer than 64/],
  ])('rejects %j', (topic, problem) => {
    expect(checkTopic(topic, rules)?.message).toMatch(problem);
  });

  it('says exactly what is wrong, quoting at most 32 characters of a long topic', () => {
    expect(checkTopic('', rules)?.message).toBe('topic "": is empty');
    expect(checkTopic('x'.repeat(64), rules)).toBeUndefined(); // the bound itself is allowed
    expect(checkTopic('x'.repeat(65), rules)?.message).toBe(`topic "${'x'.repeat(32)}…": is longer than 64 characters`);
  });

  it('validates the subject prefix as a literal subject of at most 128 characters', () => {
    expect(validateSubjectPrefix('sse')).toBeUndefined();
    expect(validateSubjectPrefix('a'.repeat(128))).toBeUndefined();
    expect(validateSubjectPrefix('a'.repeat(129))).toMatch(/^must be a literal NATS subject: .*longer than 128/);
    expect(validateSubjectPrefix('sse.*')).toMatch(/^must be a literal NATS subject: .*not allowed/);
  });

  it('tells wildcard topics from literal ones', () => {
    for (const topic of ['*', '>', 'a.*', 'a.>', '*.b', 'a.*.c']) expect(hasWildcard(topic), topic).toBe(true);
    for (const topic of ['a', 'a.b', 'a.b.c']) expect(hasWildcard(topic), topic).toBe(false);
  });

  it('rejects wildcards where they are not allowed', () => {
    expect(checkTopic('orders.*', { maxLength: 64, allowWildcards: false })?.message).toMatch(/not allowed/);
  });
});

// The cases of the NATS documentation ("Subject-Based Messaging", wildcards) and their edges.
const MATCH_CASES: Array<[pattern: string, subject: string, matches: boolean]> = [
  ['foo.bar', 'foo.bar', true],
  ['foo.bar', 'foo.baz', false],
  ['foo.*', 'foo.bar', true],
  ['foo.*', 'foo', false],
  ['foo.*', 'foo.bar.baz', false],
  ['foo.*.baz', 'foo.bar.baz', true],
  ['foo.*.baz', 'foo.bar.qux', false],
  ['foo.>', 'foo.bar', true],
  ['foo.>', 'foo.bar.baz', true],
  ['foo.>', 'foo', false],
  ['>', 'foo', true],
  ['>', 'foo.bar', true],
  ['*', 'foo', true],
  ['*', 'foo.bar', false],
  ['*.>', 'foo.bar', true],
  ['*.>', 'foo', false],
  ['*.*', 'foo.bar', true],
  ['foo.*.>', 'foo.bar', false],
  ['foo.*.>', 'foo.bar.baz.qux', true],
];

describe('subjectMatches', () => {
  it.each(MATCH_CASES)('%s ~ %s is %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe('PatternIndex', () => {
  it('finds exactly the patterns subjectMatches accepts', () => {
    const index = new PatternIndex<string>();
    const patterns = [...new Set(MATCH_CASES.map(([p]) => p))];
    for (const p of patterns) index.add(p, p);
    for (const subject of new Set(MATCH_CASES.map(([, s]) => s))) {
      const expected = patterns.filter((p) => subjectMatches(p, subject)).sort();
      expect([...index.match(subject)].sort()).toEqual(expected);
    }
  });

  it('forgets removed patterns and prunes', () => {
    const index = new PatternIndex<number>();
    index.add('a.*.c', 1);
    index.add('a.>', 2);
    index.add('a.b.c', 3);
    expect([...index.match('a.b.c')].sort()).toEqual([1, 2, 3]);
    index.remove('a.>', 2);
    expect([...index.match('a.b.c')].sort()).toEqual([1, 3]);
    index.remove('a.*.c', 1);
    index.remove('a.b.c', 3);
    expect(index.match('a.b.c')).toEqual([]);
    expect(index.size).toBe(0);
    index.remove('never.added', 9);
    expect(index.size).toBe(0);
  });

  it('returns snapshots: a later change does not alter an earlier result', () => {
    const index = new PatternIndex<number>();
    index.add('x', 1);
    const first = index.match('x');
    index.add('x', 2);
    expect(first).toEqual([1]);
    expect([...index.match('x')].sort()).toEqual([1, 2]);
  });
});

describe('SubjectSpace', () => {
  it('maps topics under the prefix and back', () => {
    const space = new SubjectSpace('sse');
    expect(space.toSubject('orders.42')).toBe('sse.orders.42');
    expect(space.toTopic('sse.orders.42')).toBe('orders.42');
    expect(space.toTopic('other.orders')).toBeUndefined();
    expect(space.toTopic('sse')).toBeUndefined();
    expect(space.toTopic('sse.')).toBeUndefined(); // the prefix and its dot, with no topic
    expect(space.all).toBe('sse.>');
  });
});
