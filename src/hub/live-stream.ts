/**
 * What the hub keeps of one open stream beyond its connection: its id and secret key (given to its
 * reader in `hub.open`), whose it is (the token's `sub`), the interests it is in now, and the turn
 * its topic changes take one after the other.
 *
 * Ids are `<node>.<counter>`: any node reads from an id alone which node holds the stream.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SseConnection } from '../sse/connection.js';
import type { Interest } from './interest.js';

// 144 bits: out of reach of guessing, and a whole number of base64 characters (24).
const KEY_BYTES = 18;

/** `<node>.<counter>`, the node being hex: the node part of a stream id, or undefined for any other text. */
export function nodeOfStream(id: string): string | undefined {
  const match = /^([0-9a-f]{1,32})\.[0-9]{1,15}$/.exec(id);
  return match?.[1];
}

export class LiveStream {
  /** The interests it is in, by pattern: its topic set. */
  readonly interests = new Map<string, Interest>();
  private readonly key: Buffer;
  private live = false;
  private wake: ((live: boolean) => void) | undefined = undefined;
  private readonly wentLive: Promise<boolean>;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly conn: SseConnection,
    /** The credential's subject; undefined for an anonymous stream. */
    readonly user: string | undefined,
  ) {
    this.key = Buffer.from(randomBytes(KEY_BYTES).toString('base64url'));
    this.wentLive = new Promise<boolean>((resolve) => (this.wake = resolve));
    conn.signal.addEventListener('abort', () => this.wake?.(false), { once: true });
  }

  get id(): string {
    return this.conn.id;
  }

  get patterns(): string[] {
    return [...this.interests.keys()];
  }

  /** In constant time: how long a comparison takes says nothing of how much of a guess was right. */
  keyMatches(given: string): boolean {
    const bytes = Buffer.from(given);
    return bytes.length === this.key.length && timingSafeEqual(bytes, this.key);
  }

  /** The `hub.open` data; asked for once, as the stream goes live. */
  opened(): string {
    this.live = true;
    this.wake?.(true);
    return JSON.stringify({ stream: this.id, key: this.key.toString() });
  }

  /** True once live, false if it ended first: a change waits until the stream has caught up. */
  untilLive(): Promise<boolean> {
    return this.live ? Promise.resolve(!this.conn.closed) : this.wentLive;
  }

  /** Runs `change` after every change asked for before it: two changes never interleave. */
  inTurn<T>(change: () => Promise<T>): Promise<T> {
    const next = this.turn.then(change);
    this.turn = next.catch(() => {});
    return next;
  }
}
