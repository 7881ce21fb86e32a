/**
 * A subscriber on the real `eventsource` npm client that records what it receives, in order,
 * for assertions. Reserved hub events (hub.open, hub.reset) are recorded too.
 */
import { EventSource } from 'eventsource';
import { waitFor } from './wait.js';

export interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

export interface SubscriberOptions {
  readonly lastEventId?: string;
  /** Named event types to record besides `message`, `hub.open` and `hub.reset`. */
  readonly types?: readonly string[];
  /** Extra request headers, read again on every (re)connect (a token that is refreshed, a cookie). */
  readonly headers?: () => Record<string, string>;
  /** Extra query parameters (e.g. access_token). */
  readonly query?: Record<string, string>;
}

export class Subscriber {
  readonly events: Received[] = [];
  /** Date.now() when each entry of `events` arrived (same index), for latency measurements. */
  readonly arrivals: number[] = [];
  readonly source: EventSource;
  opens = 0;
  errors = 0;

  constructor(hubUrl: string, topics: readonly string[], options: SubscriberOptions = {}) {
    const query = new URLSearchParams();
    for (const t of topics) query.append('topic', t);
    if (options.lastEventId) query.set('lastEventId', options.lastEventId);
    for (const [name, value] of Object.entries(options.query ?? {})) query.set(name, value);
    const headers = options.headers;
    this.source = new EventSource(
      `${hubUrl}/events?${query}`,
      headers ? { fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...headers() } }) } : undefined,
    );
    const record = (e: MessageEvent) => {
      this.events.push({ type: e.type, data: String(e.data), id: e.lastEventId });
      this.arrivals.push(Date.now());
    };
    this.source.onmessage = record;
    for (const type of ['hub.open', 'hub.reset', ...(options.types ?? [])]) this.source.addEventListener(type, record);
    this.source.onopen = () => this.opens++;
    this.source.onerror = () => this.errors++;
  }

  /** Events published by users (no hub.* events). */
  get messages(): Received[] {
    return this.events.filter((e) => !e.type.startsWith('hub.'));
  }

  /**
   * The messages before the marker `data` (see marker.ts), which must have arrived: what the stream
   * carried up to a point where nothing published earlier can still be on its way.
   */
  messagesBefore(data: string): Received[] {
    const at = this.messages.findIndex((e) => e.data === data);
    if (at === -1) throw new Error(`the marker ${JSON.stringify(data)} has not arrived`);
    return this.messages.slice(0, at);
  }

  get resets(): Received[] {
    return this.events.filter((e) => e.type === 'hub.reset');
  }

  /** Resolves when the hub has said `hub.open` `count` times (the stream is live). */
  async open(count = 1, timeoutMs = 5000): Promise<void> {
    await waitFor(`hub.open #${count}`, () => this.events.filter((e) => e.type === 'hub.open').length >= count, timeoutMs);
  }

  async waitForMessages(count: number, timeoutMs = 5000): Promise<Received[]> {
    return waitFor(`${count} messages (have ${this.messages.length})`, () => this.messages.length >= count && this.messages, timeoutMs);
  }

  close(): void {
    this.source.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
