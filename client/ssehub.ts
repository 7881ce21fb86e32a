/**
 * ssehub client: subscribe to hub topics from a browser or from Node, with no dependencies.
 *
 *   import { subscribe } from 'https://hub.example.com/client/ssehub.js';
 *   const hub = subscribe({ url: 'https://hub.example.com', topics: ['orders.42'], json: true });
 *   hub.on('order.updated', (order) => render(order));
 *
 * It speaks the hub's protocol: `hub.open` (its id is the stream position; the stream is live),
 * `hub.reset` (history the client needed is gone: reload state). The position is the last event id
 * seen, kept across reconnects and, when asked, across page reloads (sessionStorage).
 *
 * Reconnecting: the EventSource reconnects by itself after a dropped connection, honouring the hub's
 * `retry:` delay and sending Last-Event-ID. The client takes over only where it must: when the hub
 * answered an error status (the EventSource then gives up for good), and when a token function is
 * set (a fresh token means a new URL, which an EventSource cannot change). It then waits with
 * exponential backoff and jitter, and connects again from the last event id.
 *
 * Refusals: an EventSource hides the status of a refused connection (a 401 looks like any network
 * error), so after one the client asks the same URL once with fetch, reads the hub's answer and
 * reports it (`onRefused`, `refusal`): a page can say "token expired" instead of reconnecting mutely.
 *
 * This file is minified by esbuild to ES2020 (client/dist/ssehub.js; its types, with this JSDoc, in
 * client/dist/ssehub.d.ts) and served by the hub at /client/ssehub.js.
 */

/** Where the subscription stands. It starts `connecting`; `closed` is final. */
export const ConnectionState = {
  /** The first connection is being made. */
  Connecting: 'connecting',
  /** The hub said `hub.open`: any replay is done and events arrive live. */
  Open: 'open',
  /** The connection dropped or was refused; a new one is on its way, resuming from the last event id. */
  Reconnecting: 'reconnecting',
  /** close() was called. */
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The hub's `hub.reset`: events after `lastEventId` cannot be replayed. Reload state, then carry on live. */
export interface HubReset {
  /** Why, as the hub says: `unknown-id`, `history-gone`, `not-covered`, `bus-reconnected`. */
  readonly reason: string;
  /** The id the client resumed from. */
  readonly lastEventId: string;
  /** The stream position the client continues from. */
  readonly id: string;
}

/** The hub's answer to a connection it refused: an error status instead of an event stream. */
export interface HubRefusal {
  /** The HTTP status: 401 (no token, or a bad or expired one), 403 (a topic the token does not grant), 429 or 503 (busy or draining). */
  readonly status: number;
  /** The hub's error code, e.g. `token_expired` (docs/security.md lists them); '' when the answer was not the hub's (a proxy's page). */
  readonly code: string;
  /** The hub's message, e.g. `token rejected: it has expired`; '' as for `code`. */
  readonly message: string;
}

/** What a handler gets besides the data. */
export interface EventMeta {
  /** The event type (`message` when the publisher named none). */
  readonly type: string;
  /** The event id: opaque, the position to resume after. */
  readonly id: string;
  /** The payload as sent, before any JSON decoding. */
  readonly raw: string;
}

/** Event type -> data type: what each handler receives, e.g. `{ 'order.updated': Order }`. */
export type EventMap = Record<string, unknown>;
export type Handler<T> = (data: T, meta: EventMeta) => void;

/** The part of a MessageEvent the client reads. */
export interface MessageEventLike {
  readonly type: string;
  readonly data: unknown;
  readonly lastEventId: string;
}

/** The part of an EventSource the client uses: the browser's and the `eventsource` npm package's both fit. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

/** The part of Web Storage the client uses (sessionStorage fits). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface SubscribeOptions {
  /** Topics to subscribe to (NATS wildcards `*` and `>` allowed). At least one. */
  readonly topics: readonly string[];
  /** The hub's base URL, e.g. `https://hub.example.com`. Default `''`: the page's own origin (Node needs a full URL). */
  readonly url?: string;
  /** Decode each payload as JSON before handlers see it; a payload that is not JSON goes to onError. Default false. */
  readonly json?: boolean;
  /** Returns a fresh access token; called before every connection and sent as the `access_token` query parameter. */
  readonly token?: () => string | Promise<string>;
  /**
   * Remember the last event id in `storage` so a page reload resumes where it left off. `true` keys it by
   * URL and topics; a string is the key to use. Default false.
   */
  readonly persist?: boolean | string;
  /** Where `persist` keeps the id. Default `globalThis.sessionStorage`. */
  readonly storage?: StorageLike;
  /** Resume after this id on the first connection (wins over a persisted id). Default: none, start live. */
  readonly lastEventId?: string;
  /** The EventSource class. Default `globalThis.EventSource`; in Node pass the `eventsource` package's. */
  readonly EventSource?: EventSourceConstructor;
  /** Send cookies to a hub on another origin. Default false. */
  readonly withCredentials?: boolean;
  /** First delay when the client reconnects by itself; doubles per failed try. Default 1000 ms. */
  readonly reconnectDelayMs?: number;
  /** Longest delay between the client's own reconnect tries. Default 30000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Called on every change of state. */
  readonly onState?: (state: ConnectionState, previous: ConnectionState) => void;
  /**
   * Called when the hub refused a connection (401, 403, 503...). The client reconnects with backoff all
   * the same; the refusal stays readable as `refusal` until the next `hub.open`.
   */
  readonly onRefused?: (refusal: HubRefusal) => void;
  /** Called when the hub says `hub.reset`: history is gone, refetch state. */
  readonly onReset?: (reset: HubReset) => void;
  /**
   * Called with what went wrong inside the client: a handler threw, a payload was not JSON, the token
   * function failed. Default: rethrown asynchronously, so it shows in the console without stopping the stream.
   */
  readonly onError?: (error: unknown) => void;
}

export interface Subscription<Events extends object = EventMap> {
  /** Call `handler` for each event of `type` (`message` for events without a type). Returns a function that removes it. */
  on<K extends keyof Events & string>(type: K, handler: Handler<Events[K]>): () => void;
  /** Close the stream and stop reconnecting. Idempotent. */
  close(): void;
  readonly state: ConnectionState;
  /** The position: the last event id seen ('' before the first). */
  readonly lastEventId: string;
  /** Why the hub refused the last connection; undefined before any refusal and once `hub.open` came. */
  readonly refusal: HubRefusal | undefined;
}

const HUB_OPEN = 'hub.open';
const HUB_RESET = 'hub.reset';
/** EventSource.CLOSED: the EventSource gave up and will not reconnect by itself. */
const SOURCE_CLOSED = 2;
/** How long asking the hub why it refused may take; past it the client reconnects without knowing. */
const REFUSAL_PROBE_MS = 5000;

/** Open a subscription. It connects at once; add handlers with `on()` right away (events arrive asynchronously). */
export function subscribe<Events extends object = EventMap>(options: SubscribeOptions): Subscription<Events> {
  const { topics, token, onState, onReset, onRefused } = options;
  if (!topics || topics.length === 0) throw new TypeError('ssehub: at least one topic is required');
  const Source = eventSourceClass(options.EventSource);

  const base = (options.url ?? '').replace(/\/+$/, '');
  const query = new URLSearchParams();
  for (const topic of topics) query.append('topic', topic);
  const storageKey = typeof options.persist === 'string' ? options.persist : `ssehub:${base}/events?${query}`;
  const firstDelay = options.reconnectDelayMs ?? 1000;
  const maxDelay = options.maxReconnectDelayMs ?? 30_000;
  const handlers = new Map<string, Set<Handler<never>>>();
  const report = options.onError ?? ((error: unknown) => queueMicrotask(() => { throw error; }));
  // Merely reading sessionStorage throws in some sandboxed frames: then the subscription goes on without it.
  const storage = options.persist ? attempt(() => options.storage ?? (globalThis as { sessionStorage?: StorageLike }).sessionStorage) : undefined;

  let state: ConnectionState = ConnectionState.Connecting;
  let lastEventId = options.lastEventId ?? attempt(() => storage?.getItem(storageKey)) ?? '';
  let refusal: HubRefusal | undefined;
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  /** Bumped by every connect() and by close(): a token that arrives for an older generation is dropped. */
  let generation = 0;

  function attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      report(error);
      return undefined;
    }
  }

  function setState(next: ConnectionState): void {
    if (next === state) return;
    const previous = state;
    state = next;
    if (onState) attempt(() => onState(next, previous));
  }

  function track(event: MessageEventLike): void {
    if (!event.lastEventId) return;
    lastEventId = event.lastEventId;
    // Storage can throw (quota, privacy modes): the stream goes on without persistence.
    if (storage) attempt(() => storage.setItem(storageKey, lastEventId));
  }

  function dispatch(event: MessageEventLike): void {
    track(event);
    const listeners = handlers.get(event.type);
    if (!listeners || listeners.size === 0) return;
    const raw = String(event.data);
    const data = options.json ? attempt(() => decode(event.type, event.lastEventId, raw)) : raw;
    if (data === undefined) return;
    const meta: EventMeta = { type: event.type, id: event.lastEventId, raw };
    for (const handler of [...listeners]) attempt(() => (handler as Handler<unknown>)(data, meta));
  }

  async function connect(): Promise<void> {
    const current = ++generation;
    const params = new URLSearchParams(query);
    if (lastEventId) params.set('lastEventId', lastEventId);
    if (token) {
      let fresh: string;
      try {
        fresh = await token();
      } catch (error) {
        if (current !== generation) return;
        report(error);
        return retry();
      }
      if (current !== generation) return;
      params.set('access_token', fresh);
    }
    const url = `${base}/events?${params}`;
    const es = new Source(url, options.withCredentials ? { withCredentials: true } : undefined);
    source = es;
    es.addEventListener(HUB_OPEN, (event) => {
      track(event);
      failures = 0;
      refusal = undefined;
      setState(ConnectionState.Open);
    });
    es.addEventListener(HUB_RESET, (event) => {
      track(event);
      const body = attempt(() => JSON.parse(String(event.data)) as Partial<HubReset>) ?? {};
      const reset: HubReset = { reason: String(body.reason ?? ''), lastEventId: String(body.lastEventId ?? ''), id: event.lastEventId };
      if (onReset) attempt(() => onReset(reset));
    });
    // Whether the last request got an event stream: an error after that is a lost connection, not a refusal.
    let answered = false;
    es.addEventListener('open', () => {
      answered = true;
    });
    es.addEventListener('error', () => {
      if (source !== es) return;
      const gaveUp = es.readyState === SOURCE_CLOSED;
      const wasAnswered = answered;
      answered = false;
      if (token || gaveUp) {
        es.close();
        source = undefined;
        if (gaveUp && !wasAnswered) void refused(url, current);
        else retry();
      } else {
        setState(ConnectionState.Reconnecting);
      }
    });
    for (const type of handlers.keys()) es.addEventListener(type, dispatch);
  }

  /** The EventSource gave up on `url`: learn the hub's answer, report it, then reconnect with backoff. */
  async function refused(url: string, current: number): Promise<void> {
    setState(ConnectionState.Reconnecting);
    const answer = await readRefusal(url, options.withCredentials === true);
    if (current !== generation) return;
    if (answer) {
      refusal = answer;
      if (onRefused) attempt(() => onRefused(answer));
    }
    retry();
  }

  function retry(): void {
    setState(ConnectionState.Reconnecting);
    // Full doubling up to the cap, then a random half of it, so clients cut off together come back spread out.
    const delay = Math.min(maxDelay, firstDelay * 2 ** failures++) * (0.5 + Math.random() / 2);
    timer = setTimeout(() => void connect(), delay);
  }

  function close(): void {
    generation++;
    clearTimeout(timer);
    source?.close();
    source = undefined;
    setState(ConnectionState.Closed);
  }

  void connect();

  return {
    on(type, handler) {
      let listeners = handlers.get(type);
      if (!listeners) {
        handlers.set(type, (listeners = new Set()));
        source?.addEventListener(type, dispatch);
      }
      listeners.add(handler as Handler<never>);
      return () => void listeners.delete(handler as Handler<never>);
    },
    close,
    get state() {
      return state;
    },
    get lastEventId() {
      return lastEventId;
    },
    get refusal() {
      return refusal;
    },
  };
}

/**
 * Asks `url` again with fetch (as the EventSource did: same credentials mode) and reads the hub's
 * JSON error. Undefined when there is no refusal to read: the hub is unreachable, CORS hides a
 * cross-origin answer, or the hub now accepts (that stream is aborted at once).
 */
async function readRefusal(url: string, withCredentials: boolean): Promise<HubRefusal | undefined> {
  if (typeof fetch !== 'function') return undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REFUSAL_PROBE_MS);
  try {
    const res = await fetch(url, { credentials: withCredentials ? 'include' : 'same-origin', signal: abort.signal });
    if (res.ok) return undefined;
    const body = ((await res.json().catch(() => undefined)) ?? {}) as { error?: unknown; code?: unknown };
    return { status: res.status, code: String(body.code ?? ''), message: String(body.error ?? '') };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function eventSourceClass(given: EventSourceConstructor | undefined): EventSourceConstructor {
  const found = given ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  if (!found) throw new TypeError('ssehub: no EventSource here: pass options.EventSource (in Node, the "eventsource" package)');
  return found;
}

function decode(type: string, id: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new SyntaxError(`ssehub: event "${type}" (id ${id}) is not JSON: ${(cause as Error).message}`);
  }
}
