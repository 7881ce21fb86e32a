/**
 * Finds every value registered under a pattern that matches a literal subject, NATS-style
 * (`*` one token, `>` one or more trailing tokens), in time proportional to the subject's tokens
 * rather than to the number of patterns. A small cache keeps hot subjects at one Map lookup.
 */

interface Node<T> {
  readonly literals: Map<string, Node<T>>;
  star: Node<T> | undefined;
  /** Values whose pattern ends in `>` here. */
  readonly tail: Set<T>;
  /** Values whose pattern ends exactly here. */
  readonly exact: Set<T>;
}

const newNode = <T>(): Node<T> => ({ literals: new Map(), star: undefined, tail: new Set(), exact: new Set() });

// Bounds the match cache; past it the cache starts over (cheap, and hot subjects refill it at once).
const CACHE_LIMIT = 4096;

export class PatternIndex<T> {
  private readonly root: Node<T> = newNode();
  private readonly cache = new Map<string, readonly T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(pattern: string, value: T): void {
    let node = this.root;
    const tokens = pattern.split('.');
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (token === '>') {
        if (!node.tail.has(value)) this.count++;
        node.tail.add(value);
        this.cache.clear();
        return;
      }
      node = this.child(node, token);
    }
    if (!node.exact.has(value)) this.count++;
    node.exact.add(value);
    this.cache.clear();
  }

  remove(pattern: string, value: T): void {
    const path: Node<T>[] = [this.root];
    const tokens = pattern.split('.');
    let node: Node<T> | undefined = this.root;
    for (const token of tokens) {
      if (token === '>') break;
      node = token === '*' ? node.star : node.literals.get(token);
      if (!node) return;
      path.push(node);
    }
    const set = tokens[tokens.length - 1] === '>' ? node.tail : node.exact;
    if (set.delete(value)) {
      this.count--;
      this.cache.clear();
    }
    // Prune empty branches so the tree stays as small as the live patterns.
    for (let i = path.length - 1; i > 0; i--) {
      const n = path[i]!;
      if (n.exact.size || n.tail.size || n.literals.size || n.star) break;
      const parent = path[i - 1]!;
      const token = tokens[i - 1]!;
      if (token === '*') parent.star = undefined;
      else parent.literals.delete(token);
    }
  }

  /** Every value whose pattern matches `subject`, each once. The array must not be modified. */
  match(subject: string): readonly T[] {
    const cached = this.cache.get(subject);
    if (cached) return cached;
    const out = new Set<T>();
    this.collect(this.root, subject.split('.'), 0, out);
    const result = [...out];
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(subject, result);
    return result;
  }

  private collect(node: Node<T>, tokens: readonly string[], i: number, out: Set<T>): void {
    if (i === tokens.length) {
      for (const v of node.exact) out.add(v);
      return;
    }
    // `>` needs at least one more token, which there is (i < length).
    for (const v of node.tail) out.add(v);
    const literal = node.literals.get(tokens[i]!);
    if (literal) this.collect(literal, tokens, i + 1, out);
    if (node.star) this.collect(node.star, tokens, i + 1, out);
  }

  private child(node: Node<T>, token: string): Node<T> {
    if (token === '*') return (node.star ??= newNode());
    let next = node.literals.get(token);
    if (!next) {
      next = newNode();
      node.literals.set(token, next);
    }
    return next;
  }
}
