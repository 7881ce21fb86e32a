/**
 * PatternIndex beyond matching (test/unit/subject.test.ts checks it agrees with subjectMatches):
 * its count, pruning after remove (a pruned branch must never take a live pattern with it, and the
 * tree shrinks back to nothing), and the match cache (hits are the same snapshot, every change
 * invalidates it, and it is bounded).
 */
import { describe, expect, it } from 'vitest';
import { PatternIndex } from '../../src/topics/pattern-index.js';

/** The index's tree, read for the pruning bound: nodes reachable from the root, the root included. */
interface TreeNode {
  readonly literals: Map<string, TreeNode>;
  readonly star: TreeNode | undefined;
}
const nodeCount = (index: PatternIndex<unknown>): number => {
  const count = (node: TreeNode): number => 1 + [...node.literals.values()].reduce((n, child) => n + count(child), 0) + (node.star ? count(node.star) : 0);
  return count((index as unknown as { root: TreeNode }).root);
};
const cacheSize = (index: PatternIndex<unknown>): number => (index as unknown as { cache: Map<string, unknown> }).cache.size;
const sorted = <T>(values: readonly T[]): T[] => [...values].sort();

describe('PatternIndex: size', () => {
  it('counts each (pattern, value) once, exact and `>` alike, and only removals that removed something', () => {
    const index = new PatternIndex<number>();
    index.add('a.b', 1);
    index.add('a.b', 1);
    index.add('a.>', 1);
    index.add('a.>', 1);
    index.add('a.b', 2);
    expect(index.size).toBe(3);
    index.remove('a.>', 2); // never added under `>`
    index.remove('a.c', 1); // no such pattern
    expect(index.size).toBe(3);
    index.remove('a.>', 1);
    expect(index.size).toBe(2);
    expect(index.match('a.b')).toEqual(expect.arrayContaining([1, 2]));
  });
});

describe('PatternIndex: pruning after remove', () => {
  it('keeps a branch that still holds a pattern ending on it, below it, through `*`, or a `>` on it', () => {
    const index = new PatternIndex<string>();
    for (const p of ['a.b', 'a.b.c', 'a.*.c', 'a.*', 'a.b.>', 'x.y.z']) index.add(p, p);
    index.remove('a.b.c', 'a.b.c');
    expect(sorted(index.match('a.b'))).toEqual(['a.*', 'a.b']);
    expect(sorted(index.match('a.b.c'))).toEqual(['a.*.c', 'a.b.>']);
    index.remove('a.b', 'a.b');
    expect(sorted(index.match('a.b.c'))).toEqual(['a.*.c', 'a.b.>']);
    index.remove('a.b.>', 'a.b.>');
    expect(sorted(index.match('a.b.c'))).toEqual(['a.*.c']);
    index.remove('a.*.c', 'a.*.c');
    expect(index.match('a.b')).toEqual(['a.*']);
    expect(index.match('a.b.c')).toEqual([]);
    expect(index.match('x.y.z')).toEqual(['x.y.z']);
  });

  it('removes a value from its own set only: the same value under `>` and exact stay apart', () => {
    const index = new PatternIndex<number>();
    index.add('q.>', 1);
    index.add('q', 1);
    index.remove('q', 1);
    expect(index.match('q')).toEqual([]);
    expect(index.match('q.r')).toEqual([1]);
  });

  it('shrinks the tree back to the root once every pattern is gone, literal and `*` branches alike', () => {
    const index = new PatternIndex<number>();
    const patterns = ['a.b.c', 'a.*.c', 'a.b.>', '*.*', '*.x.>', 'a.b', '>'];
    patterns.forEach((p, i) => index.add(p, i));
    const full = nodeCount(index);
    // Removing a value the pattern never held changes nothing.
    index.remove('a.b.c', 99);
    expect(nodeCount(index)).toBe(full);
    patterns.forEach((p, i) => index.remove(p, i));
    expect(index.size).toBe(0);
    expect(nodeCount(index)).toBe(1);
    // And a removal down a path that was never built is harmless.
    index.remove('no.such.path', 0);
    index.remove('*.none', 0);
    expect(nodeCount(index)).toBe(1);
  });

  it('prunes only the empty tail of a path, keeping the nodes other patterns need', () => {
    const index = new PatternIndex<number>();
    index.add('a.b', 1);
    const withAb = nodeCount(index);
    index.add('a.b.c.d', 2);
    index.add('a.*.e', 3);
    index.remove('a.b.c.d', 2);
    index.remove('a.*.e', 3);
    expect(nodeCount(index)).toBe(withAb);
    expect(index.match('a.b')).toEqual([1]);
  });
});

describe('PatternIndex: match cache', () => {
  it('answers a repeated subject with the same snapshot until the index changes', () => {
    const index = new PatternIndex<number>();
    index.add('s.*', 1);
    const first = index.match('s.t');
    expect(index.match('s.t')).toBe(first);
    expect(first).toEqual([1]);
  });

  it('is invalidated by every add and remove, exact or `>`, so no result is stale', () => {
    const index = new PatternIndex<number>();
    index.add('s.t', 1);
    expect(index.match('s.t')).toEqual([1]);
    index.add('s.>', 2);
    expect(sorted(index.match('s.t'))).toEqual([1, 2]);
    index.remove('s.>', 2);
    expect(index.match('s.t')).toEqual([1]);
    index.add('s.t', 3);
    expect(sorted(index.match('s.t'))).toEqual([1, 3]);
    index.remove('s.t', 1);
    expect(index.match('s.t')).toEqual([3]);
    // A removal that removed nothing keeps the cache: the snapshot is still right.
    const before = index.match('s.t');
    index.remove('s.t', 42);
    expect(index.match('s.t')).toBe(before);
  });

  it('holds at most 4096 subjects, starting over past that, and still answers right', () => {
    const index = new PatternIndex<number>();
    index.add('c.*', 1);
    for (let i = 0; i < 4096; i++) index.match(`c.${i}`);
    expect(cacheSize(index)).toBe(4096);
    expect(index.match('c.4096')).toEqual([1]);
    expect(cacheSize(index)).toBe(1);
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      index.match(`c.${i}`);
      most = Math.max(most, cacheSize(index));
    }
    expect(most).toBe(4096);
  });
});
