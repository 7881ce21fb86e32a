/**
 * An event stream read as raw text with fetch, for tests about bytes and timing on the wire
 * (what a proxy holds back, when a stream ends) rather than about parsed events.
 */
import { waitFor } from './wait.js';

export class RawStream {
  text = '';
  status = 0;
  headers: Headers | undefined;
  /** performance.now() when the body ended (proxy or hub closed it), if it did. */
  endedAt: number | undefined;
  private readonly controller = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.done = this.read(url, headers);
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(url, { headers, signal: this.controller.signal });
      this.status = res.status;
      this.headers = res.headers;
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) this.text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // Aborted by close(), or cut by the peer: either way the stream is over.
    }
    this.endedAt = performance.now();
  }

  /** Resolves when `needle` has arrived; throws after `timeoutMs`. */
  async waitForText(needle: string, timeoutMs = 5000): Promise<void> {
    await waitFor(`${JSON.stringify(needle)} on the stream (have ${JSON.stringify(this.text.slice(-200))})`, () => this.text.includes(needle), timeoutMs, 2);
  }

  /** Whether `needle` arrives within `ms` (no throw): for checking that something is held back. */
  async arrivesWithin(needle: string, ms: number): Promise<boolean> {
    return this.waitForText(needle, ms).then(
      () => true,
      () => false,
    );
  }

  async waitForEnd(timeoutMs = 5000): Promise<number> {
    return waitFor('the stream to end', () => this.endedAt, timeoutMs);
  }

  close(): void {
    this.controller.abort();
  }
}
