/**
 * One connection to the hub, kept up: the stream, its reconnects and backoff, the refusals it
 * reports, and its topics, changed on the open stream where the hub offers live subscriptions.
 * A tab's own subscription holds one; a shared connection (share.ts) holds one for every tab.
 *
 * Two ways to read the stream. An EventSource (a plain subscription without a token: it reconnects
 * by itself, honouring `retry:` and sending Last-Event-ID). Or fetch and a stream reader with the
 * parser in sse-parser.ts: where a token is sent (as `Authorization: Bearer`, never in the URL) and
 * in a shared connection, which must see every event type and the `topic:` field. That reader
 * behaves as an EventSource does (after a dropped stream it waits the hub's `retry:` delay and
 * resumes from the last id), and reads a refusal's status and JSON directly.
 */
import type { ConnectionState, EventSourceConstructor, EventSourceLike, HubRefusal, MessageEventLike } from './ssehub.js';
import { sseParser, type SseEvent } from './sse-parser.js';

export interface LinkOptions {
  /** The hub's base URL, no trailing slash ('' for the page's origin). */
  readonly base: string;
  readonly topics: readonly string[];
  readonly lastEventId: string;
  /** `rewind=N` on a connection without an id (the hub ignores it when one is sent). */
  readonly rewind: number;
  /** Ask for `fields=topic`. */
  readonly fields: boolean;
  readonly token: (() => string | Promise<string>) | undefined;
  readonly withCredentials: boolean;
  /** Read with this EventSource class; undefined: with fetch. */
  readonly EventSource: EventSourceConstructor | undefined;
  readonly firstDelay: number;
  readonly maxDelay: number;
}

/** What a link tells its owner. Every event is passed on, `hub.*` ones included. */
export interface LinkSink {
  event(event: SseEvent): void;
  state(state: ConnectionState): void;
  refused(refusal: HubRefusal): void;
  error(error: unknown): void;
}

export interface Link {
  /** An EventSource hears only the types it listens for: add one (fetch hears every type). */
  listen(type: string): void;
  /** Change the topics: on the open stream (POST /streams/<id>/topics), else by reconnecting from the last id. */
  topics(next: readonly string[]): void;
  close(): void;
}

/** EventSource.CLOSED: the EventSource gave up and will not reconnect by itself. */
const SOURCE_CLOSED = 2;

export function openLink(o: LinkOptions, sink: LinkSink): Link {
  // hub.topics too: its id is the stream's position after a topic change, which a reconnect resumes from.
  const types = new Set(['hub.open', 'hub.reset', 'hub.topics']);
  const credentials: RequestCredentials = o.withCredentials ? 'include' : 'same-origin';
  let wanted = [...o.topics];
  /** The topics the current stream was opened with or changed to. */
  let applied = wanted;
  let lastId = o.lastEventId;
  let state: ConnectionState = 'connecting';
  let failures = 0;
  let retryMs = o.firstDelay;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stop: (() => void) | undefined;
  let source: EventSourceLike | undefined;
  /** An EventSource hides why the hub refused it; once one was refused, the link reads with fetch, which sees the answer. */
  let Source = o.EventSource;
  let hear: ((event: MessageEventLike) => void) | undefined;
  let auth: Record<string, string> = {};
  /** The live-subscriptions handle from `hub.open`, when the hub has the API. */
  let handle: { stream: string; key: string } | undefined;
  let changing = Promise.resolve();
  /** Bumped by every connect() and by close(): whatever an older connection still reports is dropped. */
  let generation = 0;

  const setState = (next: ConnectionState): void => {
    if (next !== state) sink.state((state = next));
  };

  const onEvent = (event: SseEvent): void => {
    if (event.id) lastId = event.id;
    // The owner hears hub.open (and its position) before the state says open.
    sink.event(event);
    if (event.type === 'hub.open') {
      failures = 0;
      const open = tryJson(event.data) as typeof handle;
      handle = open?.key ? open : undefined;
      setState('open');
    }
  };

  async function connect(): Promise<void> {
    const current = ++generation;
    handle = undefined;
    applied = wanted;
    const query = new URLSearchParams();
    for (const topic of applied) query.append('topic', topic);
    if (lastId) query.set('lastEventId', lastId);
    else if (o.rewind) query.set('rewind', String(o.rewind));
    if (o.fields) query.set('fields', 'topic');
    if (o.token) {
      try {
        // '' is no token (a shared connection whose tabs give none).
        const fresh = await o.token();
        auth = fresh ? { Authorization: `Bearer ${fresh}` } : {};
      } catch (error) {
        if (current !== generation) return;
        sink.error(error);
        return retry();
      }
      if (current !== generation) return;
    }
    const url = `${o.base}/events?${query}`;
    if (Source) return viaEventSource(new Source(url, o.withCredentials ? { withCredentials: true } : undefined), current);
    const abort = new AbortController();
    stop = () => abort.abort();
    let answered = false;
    try {
      const res = await fetch(url, { headers: auth, credentials, signal: abort.signal });
      if (!res.ok) {
        const refusal = await readRefusal(res);
        if (current !== generation) return;
        sink.refused(refusal);
        return retry();
      }
      answered = true;
      const feed = sseParser(onEvent, (ms) => (retryMs = ms));
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) feed(chunk.value);
    } catch {
      // Aborted (close, a topic change) or cut: what follows depends on whether a stream had come.
    }
    if (current !== generation) return;
    if (!answered) return retry();
    // As an EventSource does after a dropped stream: the hub's retry: delay, then resume.
    setState('reconnecting');
    timer = setTimeout(() => void connect(), retryMs);
  }

  function viaEventSource(es: EventSourceLike, current: number): void {
    source = es;
    stop = () => es.close();
    hear = (event) => onEvent({ type: event.type, data: String(event.data), id: event.lastEventId, topic: '' });
    for (const type of types) es.addEventListener(type, hear);
    // Whether the last request got an event stream: an error after that is a lost connection, not a refusal.
    let answered = false;
    es.addEventListener('open', () => (answered = true));
    es.addEventListener('error', () => {
      if (current !== generation) return;
      const wasAnswered = answered;
      answered = false;
      if (es.readyState !== SOURCE_CLOSED) return setState('reconnecting');
      es.close();
      source = undefined;
      if (wasAnswered) return retry();
      // Refused (a 401, a 503...), and the EventSource will not say with what: connect again at once
      // with fetch, which reads the answer (and backs off after it), or simply gets the stream this time.
      setState('reconnecting');
      Source = undefined;
      void connect();
    });
  }

  function retry(): void {
    setState('reconnecting');
    // Full doubling up to the cap, then a random half of it, so clients cut off together come back spread out.
    const delay = Math.min(o.maxDelay, o.firstDelay * 2 ** failures++) * (0.5 + Math.random() / 2);
    timer = setTimeout(() => void connect(), delay);
  }

  function halt(): void {
    generation++;
    clearTimeout(timer);
    stop?.();
    source = undefined;
  }

  /** One change at a time, in order, each against what the hub has: changes never overtake each other. */
  async function change(): Promise<void> {
    const next = wanted;
    const add = next.filter((topic) => !applied.includes(topic));
    const remove = applied.filter((topic) => !next.includes(topic));
    if (state === 'closed' || (!add.length && !remove.length)) return;
    const live = state === 'open' && handle;
    if (live) {
      const current = generation;
      const res = await fetch(`${o.base}/streams/${encodeURIComponent(live.stream)}/topics`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        credentials,
        body: JSON.stringify({ key: live.key, add, remove }),
      }).catch(() => undefined);
      if (current !== generation) return;
      if (res?.ok) {
        applied = next;
        return;
      }
    }
    // A hub without live subscriptions, or one that refused the change: a new stream with the new
    // topics, resuming after the last id.
    halt();
    void connect();
  }

  void connect();

  return {
    listen(type) {
      if (types.has(type)) return;
      types.add(type);
      if (hear) source?.addEventListener(type, hear);
    },
    topics(next) {
      wanted = [...next];
      changing = changing.then(change, change);
    },
    close() {
      halt();
      setState('closed');
    },
  };
}

async function readRefusal(res: Response): Promise<HubRefusal> {
  const body = ((await res.json().catch(() => undefined)) ?? {}) as { error?: unknown; code?: unknown };
  return { status: res.status, code: String(body.code ?? ''), message: String(body.error ?? '') };
}

export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
