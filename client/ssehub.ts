/// <reference lib="dom" />
/// <reference lib="dom.asynciterable" />
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
 * In a browser the tabs of one origin share one connection (share.ts: a SharedWorker, else a tab
 * elected with Web Locks relaying over a BroadcastChannel); `share: false` opts out. The connection
 * itself, its reconnects, backoff and refusals, and its live topics are link.ts's. A token goes in
 * an `Authorization` header, read with fetch and the parser in sse-parser.ts, never in the URL.
 *
 * Bundled and minified by esbuild to ES2020 (client/dist/ssehub.js, with ssehub-worker.js beside
 * it; the types, with this JSDoc, in client/dist/ssehub.d.ts), served by the hub at /client/, and
 * published as the npm package in client/package.json.
 */
import { openLink, tryJson, type Link } from './link.js';
import { hold, serveWorker as serve, topicMatches, type Holder, type LinkSettings, type Message } from './share.js';
import { sseParser, type SseEvent } from './sse-parser.js';

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
  /**
   * Returns a fresh access token; called before every connection and sent as `Authorization: Bearer`
   * (the stream is then read with fetch, never with the token in the URL).
   */
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
  /**
   * Share one hub connection between all tabs of this origin that use the client (a SharedWorker,
   * else one tab elected with Web Locks). Default true where the browser can; false: this tab's own connection.
   */
  readonly share?: boolean;
  /** Start with the newest N retained events on the topics (at most the hub's HUB_REWIND_MAX), then live. A resume id wins over it. Default 0. */
  readonly rewind?: number;
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
  /** Add a topic on the open subscription (live on the hub's stream where it can, else by resuming on a new one). */
  subscribe(topic: string): void;
  /** Remove a topic; the last one cannot be removed (close() instead). */
  unsubscribe(topic: string): void;
  /** The topics now. */
  readonly topics: readonly string[];
  /** How the connection is held: `worker` (a SharedWorker), `tab` (one tab for all), `none` (this tab's own), and how many tabs share it. */
  readonly sharing: { readonly via: 'worker' | 'tab' | 'none'; readonly tabs: number };
}

const HUB_OPEN = 'hub.open';
const HUB_RESET = 'hub.reset';

/** Open a subscription. It connects at once; add handlers with `on()` right away (events arrive asynchronously). */
export function subscribe<Events extends object = EventMap>(options: SubscribeOptions): Subscription<Events> {
  const { token, onState, onReset, onRefused } = options;
  let topics = [...new Set(options.topics ?? [])];
  if (topics.length === 0) throw new TypeError('ssehub: at least one topic is required');

  const base = (options.url ?? '').replace(/\/+$/, '');
  const query = new URLSearchParams();
  for (const topic of topics) query.append('topic', topic);
  const storageKey = typeof options.persist === 'string' ? options.persist : `ssehub:${base}/events?${query}`;
  const handlers = new Map<string, Set<Handler<never>>>();
  const report = options.onError ?? ((error: unknown) => queueMicrotask(() => { throw error; }));
  // Merely reading sessionStorage throws in some sandboxed frames: then the subscription goes on without it.
  const storage = options.persist ? attempt(() => options.storage ?? (globalThis as { sessionStorage?: StorageLike }).sessionStorage) : undefined;
  const settings: LinkSettings = {
    base,
    lastEventId: options.lastEventId ?? attempt(() => storage?.getItem(storageKey)) ?? '',
    withCredentials: options.withCredentials === true,
    firstDelay: options.reconnectDelayMs ?? 1000,
    maxDelay: options.maxReconnectDelayMs ?? 30_000,
  };
  const rewind = options.rewind ?? 0;

  let state: ConnectionState = ConnectionState.Connecting;
  let lastEventId = settings.lastEventId;
  let refusal: HubRefusal | undefined;
  const sharing: { via: 'worker' | 'tab' | 'none'; tabs: number } = { via: 'none', tabs: 1 };
  /** The newest id delivered, as epoch and seq: a shared stream that resumes after a takeover may repeat some. */
  let newest: [string, number] = ['', 0];
  /** Events held while this tab reads its own backlog (rewind on a connection already shared). */
  let held: SseEvent[] | undefined;
  let link: Link | undefined;
  /** Tell the connection's holder something (shared); undefined for a tab's own connection. */
  let post: ((message: Message) => void) | undefined;
  let leave: (() => void) | undefined;

  function attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      report(error);
      return undefined;
    }
  }

  function setState(next: ConnectionState): void {
    if (next === state || state === ConnectionState.Closed) return;
    const previous = state;
    state = next;
    if (next === ConnectionState.Open) refusal = undefined;
    if (onState) attempt(() => onState(next, previous));
  }

  function track(id: string): void {
    if (!id) return;
    lastEventId = id;
    // Storage can throw (quota, privacy modes): the stream goes on without persistence.
    if (storage) attempt(() => storage.setItem(storageKey, id));
  }

  function repeated(id: string): boolean {
    const dash = id.lastIndexOf('-');
    const epoch = id.slice(0, dash);
    const seq = Number(id.slice(dash + 1));
    if (epoch === newest[0] && seq <= newest[1]) return true;
    newest = [epoch, seq];
    return false;
  }

  /** Every event from the connection: a tab's own, or the shared one (then of every tab's topics). */
  function receive(event: SseEvent): void {
    if (held) return void held.push(event);
    if (event.type === HUB_RESET) {
      track(event.id);
      const body = (tryJson(event.data) ?? {}) as Partial<HubReset>;
      const reset: HubReset = { reason: String(body.reason ?? ''), lastEventId: String(body.lastEventId ?? ''), id: event.id };
      if (onReset) attempt(() => onReset(reset));
      return;
    }
    if (event.type.startsWith('hub.') || !event.id || repeated(event.id)) return track(event.id);
    track(event.id);
    if (event.topic && !topics.some((pattern) => topicMatches(pattern, event.topic))) return;
    const listeners = handlers.get(event.type);
    if (!listeners || listeners.size === 0) return;
    const data = options.json ? attempt(() => decode(event.type, event.id, event.data)) : event.data;
    if (data === undefined) return;
    const meta: EventMeta = { type: event.type, id: event.id, raw: event.data };
    for (const handler of [...listeners]) attempt(() => (handler as Handler<unknown>)(data, meta));
  }

  function refused(answer: HubRefusal): void {
    refusal = answer;
    if (onRefused) attempt(() => onRefused(answer));
  }

  /** What the holder of a shared connection says. */
  function hear(m: Message): void {
    if (m.e) receive(m.e);
    if (m.s) {
      sharing.tabs = m.n ?? 1;
      if (!lastEventId && m.i) track(m.i);
      setState(m.s);
    }
    if (m.r) refused(m.r);
    if (m.x) report(new Error(m.x));
    if (m.h) join();
    if (m.q && token) {
      Promise.resolve()
        .then(token)
        .then(
          (v) => post?.({ a: 1, v }),
          (error) => post?.({ a: 1, x: String(error) }),
        );
    }
  }

  const tab = Math.random().toString(36).slice(2);
  const join = (): void => post?.({ j: tab, t: topics, o: { ...settings, lastEventId }, k: !!token });
  const name = `ssehub ${base}`;

  /** One connection for all tabs, held by a SharedWorker. False where there is none (or it may not start, e.g. cross-origin). */
  function viaWorker(): boolean {
    try {
      const worker = new SharedWorker(new URL('./ssehub-worker.js', import.meta.url), { type: 'module', name });
      const { port } = worker;
      // The script did not load (not served, a bundler that left it out): share through the tabs instead.
      worker.onerror = () => {
        if (locks) {
          viaTabs();
          join();
        }
      };
      port.onmessage = ({ data }: MessageEvent<Message>) => hear(data);
      post = (m) => port.postMessage(m);
      leave = () => port.close();
      sharing.via = 'worker';
      return true;
    } catch {
      return false;
    }
  }

  /** One connection for all tabs, held by the tab that has the Web Lock, relayed over a BroadcastChannel. */
  function viaTabs(): void {
    const channel = new BroadcastChannel(name);
    const tabs = new Map<string, readonly string[]>();
    const abort = new AbortController();
    let holder: Holder | undefined;
    let release: (() => void) | undefined;
    /** From the holder to every tab, this one too (a channel does not hear itself). */
    const send = (m: Message): void => {
      channel.postMessage(m);
      hear(m);
    };
    /** What this tab hears as a tab among tabs, and, while it holds the connection, as its holder. */
    const heard = (m: Message): void => {
      if (m.j && m.t) {
        const known = tabs.has(m.j);
        if (holder) holder.join(m.j, m.t);
        else tabs.set(m.j, m.t);
        // A newcomer learns who is here, so it knows every tab's topics should it hold the connection.
        if (!known && m.j !== tab) join();
      }
      if (m.l) holder ? holder.leave(m.l) : tabs.delete(m.l);
    };
    channel.onmessage = ({ data }: MessageEvent<Message>) => {
      heard(data);
      hear(data);
    };
    post = (m) => {
      channel.postMessage(m);
      heard(m);
    };
    leave = () => {
      abort.abort();
      holder?.close();
      release?.();
      channel.close();
    };
    sharing.via = 'tab';
    navigator.locks
      .request(name, { signal: abort.signal }, () =>
        new Promise<void>((resolve) => {
          release = resolve;
          // Resume from the last id this tab relayed: nothing the last holder got is lost, and tabs drop what they had.
          holder = hold({ ...settings, lastEventId }, tabs, send, token);
          holder.join(tab, topics);
          send({ h: 1 });
        }),
      )
      .catch(() => {});
  }

  const browser = typeof document === 'object' && options.share !== false;
  const locks = browser && !!(globalThis as { navigator?: Navigator }).navigator?.locks && typeof BroadcastChannel === 'function';
  if (browser && (viaWorker() || (locks && (viaTabs(), true)))) {
    join();
    addEventListener('pagehide', close);
    // A tab that joins a connection already open reads its own backlog once, then takes the shared events.
    if (rewind > 0 && !settings.lastEventId) {
      held = [];
      void backlog(`${base}/events?${query}&rewind=${rewind}&fields=topic`, token, settings.withCredentials).then((events) => {
        const later = held ?? [];
        held = undefined;
        for (const event of [...events, ...later]) receive(event);
      }, report);
    }
  } else {
    const Source = token ? undefined : eventSourceClass(options.EventSource);
    link = openLink({ ...settings, topics, rewind, fields: false, token, EventSource: Source }, { event: receive, state: setState, refused, error: report });
  }

  function close(): void {
    if (post) post({ l: tab });
    leave?.();
    link?.close();
    post = leave = link = undefined;
    setState(ConnectionState.Closed);
  }

  function change(next: string[]): void {
    if (next.length === 0) throw new TypeError('ssehub: at least one topic is required; close() instead');
    topics = next;
    link?.topics(next);
    join();
  }

  return {
    on(type, handler) {
      let listeners = handlers.get(type);
      if (!listeners) {
        handlers.set(type, (listeners = new Set()));
        link?.listen(type);
      }
      listeners.add(handler as Handler<never>);
      return () => void listeners.delete(handler as Handler<never>);
    },
    close,
    subscribe(topic) {
      if (!topics.includes(topic)) change([...topics, topic]);
    },
    unsubscribe(topic) {
      if (topics.includes(topic)) change(topics.filter((t) => t !== topic));
    },
    get topics() {
      return topics;
    },
    get sharing() {
      return sharing;
    },
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

/** The SharedWorker's entry point: ssehub-worker.js calls it with its global scope. */
export const serveWorker = serve as (scope: object) => void;

/** The newest retained events on a tab's topics: a stream read up to its `hub.open`, then dropped. */
async function backlog(url: string, token: SubscribeOptions['token'], withCredentials: boolean): Promise<SseEvent[]> {
  const abort = new AbortController();
  const events: SseEvent[] = [];
  let open = false;
  const feed = sseParser(
    (event) => (event.type === HUB_OPEN ? (open = true) : events.push(event)),
    () => {},
  );
  try {
    const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${await token()}` } : {}, credentials: withCredentials ? 'include' : 'same-origin', signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    while (!open) {
      const chunk = await reader.read();
      if (chunk.done) break;
      feed(chunk.value);
    }
  } finally {
    abort.abort();
  }
  return events;
}

function eventSourceClass(given: EventSourceConstructor | undefined): EventSourceConstructor {
  const found = given ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  if (!found) throw new TypeError('ssehub: pass options.EventSource (in Node: the eventsource package)');
  return found;
}

function decode(type: string, id: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new SyntaxError(`ssehub: event "${type}" (id ${id}) is not JSON: ${(cause as Error).message}`);
  }
}
