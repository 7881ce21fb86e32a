/**
 * The client library (client/ssehub.ts) in Node, on the real `eventsource` package, against a real hub.
 * The browser side of the same library is in test/browser/.
 */
import { describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { subscribe, type ConnectionState, type HubRefusal, type HubReset, type StorageLike, type SubscribeOptions } from '../../client/ssehub.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { recordRequests } from '../helpers/request-log.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** A subscription that records what it sees: states, events of the types asked for, resets, refusals, errors. */
function record(options: Omit<SubscribeOptions, 'EventSource'>, types: readonly string[] = ['message']) {
  const states: ConnectionState[] = [];
  const resets: HubReset[] = [];
  const refusals: HubRefusal[] = [];
  const errors: unknown[] = [];
  const events: { type: string; id: string; data: unknown }[] = [];
  const sub = subscribe({
    EventSource,
    onState: (state) => states.push(state),
    onReset: (reset) => resets.push(reset),
    onRefused: (refusal) => refusals.push(refusal),
    onError: (error) => errors.push(error),
    ...options,
  });
  for (const type of types) sub.on(type, (data, meta) => events.push({ type: meta.type, id: meta.id, data }));
  const opened = (count = 1) => waitFor(`state open #${count} (states: ${states.join(', ')})`, () => states.filter((s) => s === 'open').length >= count, 5000);
  const received = (count: number) => waitFor(`${count} events (have ${events.length})`, () => events.length >= count && events, 5000);
  return { sub, states, resets, refusals, errors, events, opened, received, [Symbol.dispose]: () => sub.close() };
}

/**
 * "Nothing else arrived", shown by a later marker instead of a sleep: publish `data` on `topic` and
 * wait until `sub` has it, then answer what came before it (a stream delivers in bus order).
 */
async function before(hubUrl: string, topic: string, sub: ReturnType<typeof record>, data: unknown): Promise<ReturnType<typeof record>["events"]> {
  await publish(hubUrl, topic, JSON.stringify(data));
  const at = await waitFor(`the marker on ${topic}`, () => {
    const i = sub.events.findIndex((e) => JSON.stringify(e.data) === JSON.stringify(data) || e.data === JSON.stringify(data));
    return i === -1 ? undefined : i + 1;
  });
  return sub.events.slice(0, at - 1);
}

/** sessionStorage's contract in a Map, for Node (the browser tests use the real sessionStorage). */
class MapStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('client library in Node', () => {
  it('delivers events to typed handlers per type, decoding JSON, with ids and states', async () => {
    await using hub = await startTestHub();
    using sub = record({ url: hub.url, topics: ['orders.*'], json: true }, ['message', 'created']);
    await sub.opened();
    expect(sub.sub.state).toBe('open');
    const a = await publish(hub.url, 'orders.1', '{"n":1}', 'created');
    const b = await publish(hub.url, 'orders.2', '[2]');
    await publish(hub.url, 'orders.3', '"not handled"', 'cancelled');
    await publish(hub.url, 'orders.4', '{"n":4}', 'created');
    const events = await sub.received(3);
    expect(events[0]).toEqual({ type: 'created', id: a.body.id, data: { n: 1 } });
    expect(events[1]).toEqual({ type: 'message', id: b.body.id, data: [2] });
    expect(events[2]).toMatchObject({ type: 'created', data: { n: 4 } });
    expect(sub.sub.lastEventId).toBe(events[2]!.id);
    expect(sub.states).toEqual(['open']);
    expect(sub.errors).toEqual([]);
    expect(await before(hub.url, 'orders.5', sub, { marker: true })).toHaveLength(3);
  });

  it('passes payloads through as text unless asked for JSON', async () => {
    await using hub = await startTestHub();
    using sub = record({ url: `${hub.url}/`, topics: ['notes'] });
    await sub.opened();
    await publish(hub.url, 'notes', 'line one\nline two');
    expect((await sub.received(1))[0]!.data).toBe('line one\nline two');
  });

  it('adds and removes handlers while open; a throwing handler or bad JSON goes to onError and the stream goes on', async () => {
    await using hub = await startTestHub();
    using sub = record({ url: hub.url, topics: ['t'], json: true });
    await sub.opened();
    const late: unknown[] = [];
    const off = sub.sub.on('late', (data) => late.push(data));
    sub.sub.on('late', () => {
      throw new Error('handler bug');
    });
    await publish(hub.url, 't', '{"x":1}', 'late');
    await waitFor('the late handler', () => late.length === 1);
    off();
    await publish(hub.url, 't', 'not json');
    await publish(hub.url, 't', '{"x":2}', 'late');
    await publish(hub.url, 't', '{"x":3}');
    await sub.received(1);
    await waitFor('two errors', () => sub.errors.length >= 3);
    expect(late).toEqual([{ x: 1 }]);
    expect(sub.events.map((e) => e.data)).toEqual([{ x: 3 }]);
    expect(String(sub.errors[0])).toBe('Error: handler bug');
    expect(String(sub.errors[1])).toMatch(/^SyntaxError: ssehub: event "message" \(id [^)]+\) is not JSON/);
    expect(String(sub.errors[2])).toBe('Error: handler bug');
    expect(sub.sub.state).toBe('open');
  });

  it('resumes after a dropped connection with no event lost or repeated (the EventSource reconnects)', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '300' });
    const proxy = new TcpProxy(hub.port);
    try {
      using sub = record({ url: await proxy.start(), topics: ['feed'] });
      await sub.opened();
      for (const n of [1, 2]) await publish(hub.url, 'feed', `e${n}`);
      await sub.received(2);
      proxy.cut();
      await waitFor('reconnecting', () => sub.sub.state === 'reconnecting');
      for (const n of [3, 4]) await publish(hub.url, 'feed', `e${n}`);
      await sub.opened(2);
      await publish(hub.url, 'feed', 'e5');
      await sub.received(5);
      expect((await before(hub.url, 'feed', sub, 'marker')).map((e) => e.data)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
      expect(sub.states).toEqual(['open', 'reconnecting', 'open']);
      expect(sub.resets).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('calls onReset when the hub cannot replay from the id it was given', async () => {
    await using hub = await startTestHub();
    using sub = record({ url: hub.url, topics: ['t'], lastEventId: 'from-another-hub-7' });
    await sub.opened();
    expect(sub.resets).toEqual([{ reason: 'unknown-id', lastEventId: 'from-another-hub-7', id: expect.any(String) }]);
    // It goes on from the position the reset gave it.
    expect(sub.sub.lastEventId).toBe(sub.resets[0]!.id);
  });

  it('reconnects by itself with backoff when the hub refuses the stream (the EventSource gives up on a 503), reporting the refusal', async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTIONS: '1' });
    const requests = recordRequests(hub);
    using first = record({ url: hub.url, topics: ['busy'] });
    await first.opened();
    using second = record({ url: hub.url, topics: ['busy'], reconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    await waitFor('second refused at least twice', () => second.refusals.length >= 2);
    expect(second.sub.state).toBe('reconnecting');
    const refusal = { status: 503, code: 'too_many_connections', message: expect.stringContaining('maximum of 1 streams') };
    expect(second.refusals[0]).toEqual(refusal);
    expect(second.sub.refusal).toEqual(refusal);
    // The EventSource's refused request, then the client's own fetch reader, which reads each answer.
    expect(requests.filter((u) => u.startsWith('/events')).length).toBeGreaterThanOrEqual(1 + 2);
    first.sub.close();
    expect(first.states).toEqual(['open', 'closed']);
    await second.opened();
    await publish(hub.url, 'busy', 'through');
    expect((await second.received(1))[0]!.data).toBe('through');
    expect(second.states).toEqual(['reconnecting', 'open']);
    expect(second.sub.refusal).toBeUndefined();
  });

  it('asks for a fresh token before every connection and sends it as an Authorization header, never in the URL', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '100' });
    const requests = recordRequests(hub);
    const authorizations: string[] = [];
    hub.server.on('request', (req) => req.url?.startsWith('/events') && authorizations.push(String(req.headers.authorization)));
    const proxy = new TcpProxy(hub.port);
    try {
      let calls = 0;
      using sub = record({
        url: await proxy.start(),
        topics: ['secure'],
        reconnectDelayMs: 20,
        token: async () => {
          calls++;
          if (calls === 2) throw new Error('token service down');
          return `t${calls}`;
        },
      });
      await sub.opened();
      await publish(hub.url, 'secure', 'one');
      const [one] = await sub.received(1);
      proxy.cut();
      await publish(hub.url, 'secure', 'two');
      await sub.opened(2);
      await sub.received(2);
      expect(sub.events.map((e) => e.data)).toEqual(['one', 'two']);
      expect(String(sub.errors[0])).toBe('Error: token service down');
      const streams = requests.filter((u) => u.startsWith('/events'));
      expect(streams).toEqual(['/events?topic=secure', `/events?topic=secure&lastEventId=${encodeURIComponent(one!.id)}`]);
      expect(authorizations).toEqual(['Bearer t1', 'Bearer t3']);
    } finally {
      await proxy.close();
    }
  });

  it('keeps the last event id in storage when asked, so a new subscription resumes', async () => {
    await using hub = await startTestHub();
    const storage = new MapStorage();
    const options = { url: hub.url, topics: ['a', 'b'], persist: true, storage };
    {
      using sub = record(options);
      await sub.opened();
      for (const n of [1, 2]) await publish(hub.url, 'a', `e${n}`);
      await sub.received(2);
      expect([...storage.items]).toEqual([[`ssehub:${hub.url}/events?topic=a&topic=b`, sub.sub.lastEventId]]);
    }
    for (const n of [3, 4]) await publish(hub.url, 'b', `e${n}`);
    using again = record(options);
    await again.opened();
    await again.received(2);
    expect((await before(hub.url, 'b', again, 'marker')).map((e) => e.data)).toEqual(['e3', 'e4']);
    expect(again.resets).toEqual([]);

    using named = record({ ...options, persist: 'my-key' });
    await named.opened();
    expect(storage.items.get('my-key')).toBe(named.sub.lastEventId);
  });

  it('closes cleanly: the hub sees the stream end and nothing reconnects', async () => {
    await using hub = await startTestHub({ HUB_RETRY_MS: '50' });
    const sub = record({ url: hub.url, topics: ['t'] });
    await sub.opened();
    expect(hub.hub.connectionCount).toBe(1);
    sub.sub.close();
    sub.sub.close();
    await waitFor('the hub to see the stream closed', () => hub.hub.connectionCount === 0);
    await sleep(200);
    expect(hub.hub.connectionCount).toBe(0);
    expect(sub.states).toEqual(['open', 'closed']);
  });

  it('refuses a subscription without topics', () => {
    expect(() => subscribe({ EventSource, topics: [] })).toThrow('ssehub: at least one topic is required');
  });
});
