/**
 * One hub connection for every tab of an origin. The connection (a Link with `fields=topic`, on the
 * union of the tabs' topics) lives in a SharedWorker where the browser has one (ssehub-worker.ts),
 * else in one tab elected with Web Locks, which relays over a BroadcastChannel; when that tab goes,
 * the lock passes to another, which resumes from the last id it relayed. Every event goes to every
 * tab; each keeps those of its own topics (by the `topic:` field) and drops any id it already had,
 * so a takeover repeats nothing. Messages are small objects, their keys one letter (the bytes count).
 */
import { openLink, type Link, type LinkOptions } from './link.js';
import type { ConnectionState, HubRefusal } from './ssehub.js';
import type { SseEvent } from './sse-parser.js';

/** What the tabs and the connection's holder say to each other. */
export interface Message {
  /** A tab joins or changes its topics (`t`); `o` are its link settings, `k` whether it can give tokens. */
  readonly j?: string;
  readonly t?: readonly string[];
  readonly o?: LinkSettings;
  readonly k?: boolean;
  /** A tab leaves. */
  readonly l?: string;
  /** An event of the shared stream. */
  readonly e?: SseEvent;
  /** The shared connection's state, how many tabs share it (`n`) and its position (`i`). */
  readonly s?: ConnectionState;
  readonly n?: number;
  readonly i?: string;
  /** A refusal of the shared connection. */
  readonly r?: HubRefusal;
  /** Something went wrong in the holder (a token that failed). */
  readonly x?: string;
  /** A new holder: every tab says its topics again. */
  readonly h?: 1;
  /** The worker asks a tab for a token (`q`); the tab answers (`a`, with `v` or the error `x`). */
  readonly q?: 1;
  readonly a?: 1;
  readonly v?: string;
}

/** The link settings a tab hands to the holder (what can cross postMessage: no functions). */
export type LinkSettings = Omit<LinkOptions, 'topics' | 'rewind' | 'fields' | 'token' | 'EventSource'>;

export interface Holder {
  /** A tab's topics, new or changed. */
  join(tab: string, topics: readonly string[]): void;
  leave(tab: string): void;
  close(): void;
}

/**
 * Holds the shared connection for `tabs` (tab -> topics; the caller owns the map and reports each
 * change through join/leave). `send` reaches every tab, this one included.
 */
export function hold(settings: LinkSettings, tabs: Map<string, readonly string[]>, send: (message: Message) => void, token: LinkOptions['token']): Holder {
  let link: Link | undefined;
  let lastId = settings.lastEventId;
  let state: ConnectionState = 'connecting';
  const announce = (): void => send({ s: state, n: tabs.size, i: lastId });

  const sync = (): void => {
    const topics = [...new Set([...tabs.values()].flat())].sort();
    if (topics.length === 0) {
      link?.close();
      link = undefined;
      return;
    }
    if (link) return link.topics(topics);
    state = 'connecting';
    link = openLink({ ...settings, lastEventId: lastId, topics, rewind: 0, fields: true, token, EventSource: undefined }, {
      event(event) {
        if (event.id) lastId = event.id;
        send({ e: event });
      },
      state(next) {
        state = next;
        announce();
      },
      refused: (refusal) => send({ r: refusal }),
      error: (error) => send({ x: String(error) }),
    });
  };

  return {
    join(tab, topics) {
      tabs.set(tab, topics);
      sync();
      announce();
    },
    leave(tab) {
      if (!tabs.delete(tab)) return;
      sync();
      announce();
    },
    close() {
      link?.close();
    },
  };
}

/** NATS matching: `*` is one token, `>` one or more at the end. */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length || (p[i] !== '*' && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

/** The SharedWorker's side (ssehub-worker.ts runs it): one holder for every tab that connects. */
export function serveWorker(scope: { onconnect: ((event: MessageEvent) => void) | null }): void {
  const tabs = new Map<string, readonly string[]>();
  const ports = new Map<string, MessagePort>();
  let holder: Holder | undefined;
  const send = (message: Message): void => {
    for (const port of new Set(ports.values())) port.postMessage(message);
  };
  /** The port of the newest tab that can give a token: the worker cannot call the page's function. */
  let giver: MessagePort | undefined;
  /** The link asks for one token at a time (before each connection): one answer is awaited at most. */
  let answer: ((m: Message) => void) | undefined;
  const token = (): Promise<string> =>
    new Promise((resolve, reject) => {
      if (!giver) return resolve('');
      answer = (m) => (m.v === undefined ? reject(new Error(m.x)) : resolve(m.v));
      giver?.postMessage({ q: 1 });
      // A tab that closed meanwhile never answers: the link then retries with backoff and asks again.
      setTimeout(reject, 10_000, new Error('ssehub: no token'));
    });

  scope.onconnect = (event) => {
    const port = event.ports[0]!;
    port.onmessage = ({ data: m }: MessageEvent<Message>) => {
      if (m.j && m.t) {
        ports.set(m.j, port);
        if (m.k) giver = port;
        holder ??= hold(m.o!, tabs, send, token);
        holder.join(m.j, m.t);
      }
      if (m.l) {
        holder?.leave(m.l);
        ports.delete(m.l);
        if (giver === port) giver = [...ports.values()].pop();
        // The last tab went: the next one starts afresh, with its own settings and position.
        if (!ports.size) {
          holder?.close();
          holder = undefined;
        }
      }
      if (m.a) answer?.(m);
    };
  };
}
