/**
 * The hub end to end, over a real HTTP server and the real `eventsource` client, once per bus.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { passMarker } from '../helpers/marker.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

for (const kind of busKinds()) {
  describe(`streams [${kind.name}]`, () => {
    afterAll(() => kind.dispose());

    const hubEnv = async (extra: Record<string, string> = {}) => ({ HUB_RETRY_MS: '100', ...(await kind.env()), ...extra });

    it('sends headers and the retry line before any event exists', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_RETRY_MS: '1234' }));
      try {
        const controller = new AbortController();
        const res = await fetch(`${hub.url}/events?topic=quiet`, { signal: controller.signal });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
        expect(res.headers.get('x-accel-buffering')).toBe('no');
        const reader = res.body!.getReader();
        const first = await reader.read();
        expect(new TextDecoder().decode(first.value)).toMatch(/^retry: 1234\n\n/);
        controller.abort();
      } finally {
        await hub.shutdown();
      }
    });

    it('delivers an HTTP publish to a subscriber, payload and type exact', async () => {
      const hub = await startTestHub(await hubEnv());
      const sub = new Subscriber(hub.url, ['orders.42'], { types: ['created'] });
      try {
        await sub.open();
        const answer = await publish(hub.url, 'orders.42', 'line one\r\nline two\rthree\n', 'created');
        if (kind.name === 'nats') {
          expect(answer).toEqual({ status: 202, body: { accepted: true, msgId: expect.any(String) } });
        } else {
          expect(answer.status).toBe(200);
          expect(answer.body.id).toEqual(expect.any(String));
        }
        const [event] = await sub.waitForMessages(1);
        expect(event).toMatchObject({ type: 'created', data: 'line one\nline two\nthree\n' });
        if (kind.name !== 'nats') expect(event!.id).toBe(answer.body.id);
        await publish(hub.url, 'orders.43', 'not for us');
        await publish(hub.url, 'orders.42', '{"n":2}');
        const events = await sub.waitForMessages(2);
        expect(events[1]).toMatchObject({ type: 'message', data: '{"n":2}' });
        // 'not for us' went to orders.43: nothing but the two arrived before a later marker.
        const marker = await passMarker(hub.url, 'orders.42', [sub]);
        expect(sub.messagesBefore(marker)).toHaveLength(2);
      } finally {
        sub.close();
        await hub.shutdown();
      }
    });

    it('matches wildcards as NATS does and sends an event once to overlapping topics', async () => {
      const hub = await startTestHub(await hubEnv());
      const star = new Subscriber(hub.url, ['orders.*']);
      const tail = new Subscriber(hub.url, ['orders.>']);
      const both = new Subscriber(hub.url, ['orders.*', 'orders.42', 'orders.>']);
      const multi = new Subscriber(hub.url, ['users.7', 'orders.1']);
      try {
        await Promise.all([star.open(), tail.open(), both.open(), multi.open()]);
        for (const topic of ['orders.42', 'orders.1.lines', 'users.7', 'orders.1', 'orders']) await publish(hub.url, topic, topic);
        await tail.waitForMessages(3);
        await multi.waitForMessages(2);
        await both.waitForMessages(3);
        await star.waitForMessages(2);
        // orders.1 is one topic all four follow: once its marker is in, nothing else is coming.
        const marker = await passMarker(hub.url, 'orders.1', [star, tail, both, multi]);
        expect(star.messagesBefore(marker).map((e) => e.data)).toEqual(['orders.42', 'orders.1']);
        expect(tail.messagesBefore(marker).map((e) => e.data)).toEqual(['orders.42', 'orders.1.lines', 'orders.1']);
        expect(both.messagesBefore(marker).map((e) => e.data)).toEqual(['orders.42', 'orders.1.lines', 'orders.1']);
        expect(multi.messagesBefore(marker).map((e) => e.data)).toEqual(['users.7', 'orders.1']);
        // One id per event, whichever subscription carried it.
        expect(both.messages.map((e) => e.id)).toEqual(tail.messages.map((e) => e.id));
        // Interest is shared: one bus subscription per distinct pattern.
        expect(hub.hub.subscriptionCount).toBe(5);
      } finally {
        for (const s of [star, tail, both, multi]) s.close();
        await hub.shutdown();
      }
    });

    it('sends a heartbeat comment to an idle stream', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_HEARTBEAT_MS: '150' }));
      try {
        const controller = new AbortController();
        const res = await fetch(`${hub.url}/events?topic=idle`, { signal: controller.signal });
        const reader = res.body!.getReader();
        let text = '';
        await waitFor('two heartbeats', async () => {
          const { value } = await reader.read();
          text += new TextDecoder().decode(value);
          return (text.match(/^:\n\n/gm) ?? []).length >= 2;
        }, 3000);
        controller.abort();
      } finally {
        await hub.shutdown();
      }
    });

    it('refuses bad input with a JSON 4xx and publishes nothing', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_MAX_TOPICS: '3', HUB_MAX_EVENT_BYTES: '1024' }));
      const watcher = new Subscriber(hub.url, ['>']);
      try {
        await watcher.open();
        const cases: Array<[string, RequestInit | undefined, number, string]> = [
          ['/events', undefined, 400, 'no_topic'],
          ['/events?topic=', undefined, 400, 'bad_topic'],
          ['/events?topic=a..b', undefined, 400, 'bad_topic'],
          ['/events?topic=a%20b', undefined, 400, 'bad_topic'],
          ['/events?topic=a.%3E.b', undefined, 400, 'bad_topic'],
          [`/events?topic=${'x'.repeat(300)}`, undefined, 400, 'bad_topic'],
          ['/events?topic=a&topic=b&topic=c&topic=d', undefined, 400, 'too_many_topics'],
          ['/publish?topic=orders.*', { method: 'POST', body: 'x' }, 400, 'wildcard_publish'],
          ['/publish?topic=orders.%3E', { method: 'POST', body: 'x' }, 400, 'wildcard_publish'],
          ['/publish', { method: 'POST', body: 'x' }, 400, 'no_topic'],
          ['/publish?topic=a&topic=b', { method: 'POST', body: 'x' }, 400, 'no_topic'],
          ['/publish?topic=orders.1&event=', { method: 'POST', body: 'x' }, 400, 'bad_event_type'],
          ['/publish?topic=orders.1&event=a%0Ab', { method: 'POST', body: 'x' }, 400, 'bad_event_type'],
          ['/publish?topic=orders.1&event=hub.reset', { method: 'POST', body: 'x' }, 400, 'bad_event_type'],
          ['/publish?topic=orders.1', { method: 'POST', body: 'x'.repeat(1025) }, 413, 'payload_too_large'],
          ['/publish?topic=orders.1', { method: 'POST', body: new Uint8Array([0x66, 0xff, 0xfe]) }, 400, 'bad_payload'],
          ['/nowhere', undefined, 404, 'not_found'],
        ];
        for (const [path, init, status, code] of cases) {
          const res = await fetch(hub.url + path, { ...init, signal: AbortSignal.timeout(5000) });
          expect({ path, status: res.status }).toEqual({ path, status });
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          const body = (await res.json()) as { error: string; code: string };
          expect({ path, code: body.code }).toEqual({ path, code });
          expect(body.error.length).toBeGreaterThan(5);
        }
        // A body of exactly the limit is fine, and is the only thing the watcher ever sees.
        expect((await publish(hub.url, 'orders.1', 'y'.repeat(1024))).status).toBeLessThan(300);
        await watcher.waitForMessages(1);
        const marker = await passMarker(hub.url, 'orders.1', [watcher]);
        expect(watcher.messagesBefore(marker).map((e) => e.data)).toEqual(['y'.repeat(1024)]);
      } finally {
        watcher.close();
        await hub.shutdown();
      }
    });

    it('shares one bus subscription per pattern and releases it with the last subscriber', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_INTEREST_LINGER_MS: '300' }));
      const subs = [1, 2, 3].map(() => new Subscriber(hub.url, ['shared.topic']));
      try {
        await Promise.all(subs.map((s) => s.open()));
        expect(hub.hub.connectionCount).toBe(3);
        expect(hub.hub.subscriptionCount).toBe(1);
        for (const s of subs) s.close();
        await waitFor('connections to close', () => hub.hub.connectionCount === 0);
        expect(hub.hub.subscriptionCount).toBe(1); // lingering, so a quick reconnect resumes exactly
        await waitFor('the lingering subscription to be released', () => hub.hub.subscriptionCount === 0, 3000);
      } finally {
        for (const s of subs) s.close();
        await hub.shutdown();
      }
    });

    it('ends every stream on shutdown and stops answering ready', async () => {
      const hub = await startTestHub(await hubEnv());
      const sub = new Subscriber(hub.url, ['bye']);
      try {
        await sub.open();
        expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
        const closed = new Promise<void>((resolve) => sub.source.addEventListener('error', () => resolve(), { once: true }));
        const stopping = hub.shutdown();
        await closed;
        await stopping;
        expect(hub.hub.connectionCount).toBe(0);
        expect(hub.hub.subscriptionCount).toBe(0);
        expect(hub.server.listening).toBe(false);
      } finally {
        sub.close();
        await hub.shutdown();
      }
    });
  });
}
