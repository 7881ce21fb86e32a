import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { anyCovers, patternCovers } from '../../src/topics/coverage.js';
import { checkTopic, subjectMatches } from '../../src/topics/subject.js';

describe('patternCovers (NATS semantics)', () => {
  it.each([
    // grant, requested, covers
    ['orders.42', 'orders.42', true],
    ['orders.42', 'orders.43', false],
    ['orders.*', 'orders.42', true],
    ['orders.*', 'orders.*', true],
    ['orders.*', 'orders.>', false], // `>` reaches orders.a.b, which `*` does not
    ['orders.*', 'orders', false],
    ['orders.*', 'orders.42.items', false],
    ['orders.>', 'orders.42', true],
    ['orders.>', 'orders.*', true],
    ['orders.>', 'orders.>', true],
    ['orders.>', 'orders.*.items', true],
    ['orders.>', 'orders.*.>', true],
    ['orders.>', 'orders', false], // `>` needs at least one token
    ['orders.>', '>', false],
    ['orders.>', '*.42', false],
    ['>', 'anything.at.all', true],
    ['>', '*', true],
    ['>', '>', true],
    ['*', '>', false],
    ['*', '*', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*.42', 'orders.42', true],
    ['*.42', '*.42', true],
    ['*.42', '*.*', false],
    ['user.*.inbox', 'user.7.inbox', true],
    ['user.*.inbox', 'user.*.inbox', true],
    ['user.*.inbox', 'user.7.>', false],
    ['user.7.>', 'user.*.inbox', false], // `*` reaches user.8.inbox
    ['a.*.>', 'a.>', false], // `a.>` reaches `a.b`, which `a.*.>` does not
    ['a.*.>', 'a.*.*', true],
    ['a.b', 'a.b.c', false],
    ['a.b.c', 'a.b', false],
  ])('%s covers %s: %s', (grant, requested, covers) => {
    expect(patternCovers(grant, requested)).toBe(covers);
  });

  it('anyCovers asks every grant', () => {
    expect(anyCovers([], 'a')).toBe(false);
    expect(anyCovers(['b.*', 'a.>'], 'a.x.y')).toBe(true);
    expect(anyCovers(['b.*', 'a.*'], 'a.x.y')).toBe(false);
  });

  // Ground truth by enumeration: grant covers requested iff every subject (over a small alphabet
  // plus one token neither pattern names) matched by requested is matched by grant. Patterns of
  // up to 4 tokens need subjects of up to 5 tokens to find any counterexample.
  const token = fc.constantFrom('a', 'b', '*', '>');
  const pattern = fc
    .array(token, { minLength: 1, maxLength: 4 })
    .map((tokens) => tokens.map((t, i) => (t === '>' && i !== tokens.length - 1 ? '*' : t)).join('.'));
  const alphabet = ['a', 'b', 'z'];
  const subjects: string[] = [];
  const grow = (prefix: string[]): void => {
    if (prefix.length > 0) subjects.push(prefix.join('.'));
    if (prefix.length === 5) return;
    for (const t of alphabet) grow([...prefix, t]);
  };
  grow([]);

  it('agrees with enumeration over every small subject', () => {
    fc.assert(
      fc.property(pattern, pattern, (grant, requested) => {
        expect(checkTopic(grant, { maxLength: 64, allowWildcards: true })).toBeUndefined();
        const truth = subjects.every((s) => !subjectMatches(requested, s) || subjectMatches(grant, s));
        expect(patternCovers(grant, requested)).toBe(truth);
      }),
      { numRuns: 2000 },
    );
  });
});
