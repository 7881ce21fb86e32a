/**
 * A map of at most `maxKeys` entries that forgets the least recently used first. Map iteration order
 * is insertion order, so re-inserting on every touch keeps the oldest entry at the front.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private maxKeys: number) {}

  /** A new bound; when it is lower than the size, the least recently used entries go at once. */
  resize(maxKeys: number): void {
    this.maxKeys = maxKeys;
    while (this.entries.size > maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, now the most recently used, or undefined. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores `value` as the most recently used, forgetting the least recently used when full. */
  set(key: K, value: V): void {
    if (!this.entries.delete(key) && this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
