/**
 * Last-Event-ID resume and hub.reset, with real drops: a TCP proxy between the `eventsource` client
 * and the hub cuts or stalls the connection, and the client reconnects on its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { NO_DELIVERY_FAULTS, deliveryFaults } from '../helpers/delivery.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { passMarker } from '../helpers/marker.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { Subscriber } from '../helpers/sse-client.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** Asserts that `got` is exactly 0..count-1 as strings, in order: nothing lost, nothing repeated. */
function expectExactly(got: readonly string[], count: number): void {
  expect(deliveryFaults(got, Array.from({ length: count }, (_, i) => String(i)))).toEqual(NO_DELIVERY_FAULTS);
}

for (const kind of busKinds()) {
  describe(`resume [${kind.name}]`, () => {
    afterAll(() => kind.dispose());
    const hubEnv = async (extra: Record<string, string> = {}) => ({ HUB_RETRY_MS: '50', ...(await kind.env()), ...extra });

    it('resumes after dropped connections while a publisher keeps publishing: nothing lost or repeated', async () => {
      const hub = await startTestHub(await hubEnv());
      const proxy = new TcpProxy(hub.port);
      const proxyUrl = await proxy.start();
      const sub = new Subscriber(proxyUrl, ['orders.*']);
      const TOTAL = 300;
      try {
        await sub.open();
        const publisher = (async () => {
          for (let i = 0; i < TOTAL; i++) {
            await publish(hub.url, i % 2 ? 'orders.odd' : 'orders.even', String(i));
            if (i % 10 === 0) await sleep(2);
          }
        })();
        for (let cut = 1; cut <= 4; cut++) {
          await waitFor(`event ${cut * 50}`, () => sub.messages.length >= cut * 50, 10_000);
          proxy.cut();
        }
        await publisher;
        await waitFor(`all ${TOTAL} events (have ${sub.messages.length})`, () => sub.messages.length >= TOTAL, 10_000);
        // A later marker: no repeat of an earlier event can still be on its way once it is in.
        const marker = await passMarker(hub.url, 'orders.even', [sub]);
        expect(sub.opens).toBeGreaterThanOrEqual(5);
        expect(sub.resets).toEqual([]);
        expectExactly(sub.messagesBefore(marker).map((e) => e.data), TOTAL);
      } finally {
        sub.close();
        await proxy.close();
        await hub.shutdown();
      }
    });

    it('resumes a client that got no event before its drop (the hub.open id is a position)', async () => {
      const hub = await startTestHub(await hubEnv());
      const proxy = new TcpProxy(hub.port);
      const sub = new Subscriber(await proxy.start(), ['quiet.topic']);
      try {
        await sub.open();
        proxy.cut();
        await publish(hub.url, 'quiet.topic', 'while away');
        await sub.open(2);
        const [event] = await sub.waitForMessages(1);
        expect(event!.data).toBe('while away');
        expect(sub.resets).toEqual([]);
      } finally {
        sub.close();
        await proxy.close();
        await hub.shutdown();
      }
    });

    it('sends hub.reset when the events a client missed were evicted (JetStream: reads them back), and only then', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_REPLAY_MAX_EVENTS: '5' }));
      // The hub only hears topics someone listens to; this watcher makes it hear "sports".
      const watcher = new Subscriber(hub.url, ['sports']);
      let first: Subscriber | undefined;
      try {
        await watcher.open();
        await publish(hub.url, 'news', 'before');
        first = new Subscriber(hub.url, ['news']);
        await first.open();
        const position = first.events.at(-1)!.id;
        first.close();

        // Ten events on another topic push everything out, but nothing on "news" was lost.
        for (let i = 0; i < 10; i++) await publish(hub.url, 'sports', `s${i}`);
        await watcher.waitForMessages(10);
        const untouched = new Subscriber(hub.url, ['news'], { lastEventId: position });
        await untouched.open();
        expect(untouched.resets.map((e) => e.data)).toEqual([]);
        untouched.close();

        // Now "news" loses events: 3 on news, then 10 others push them out.
        for (let i = 0; i < 3; i++) await publish(hub.url, 'news', `n${i}`);
        for (let i = 0; i < 10; i++) await publish(hub.url, 'sports', `t${i}`);
        await watcher.waitForMessages(20);
        const late = new Subscriber(hub.url, ['news'], { lastEventId: position });
        await late.open();
        if (kind.name === 'jetstream') {
          // The stream still holds them: read back from JetStream, exactly, no reset.
          expect(late.events.map((e) => e.type === 'hub.open' ? 'open' : e.data)).toEqual(['n0', 'n1', 'n2', 'open']);
          return;
        }
        expect(late.events[0]).toMatchObject({ type: 'hub.reset' });
        expect(JSON.parse(late.events[0]!.data)).toEqual({ reason: 'history-gone', lastEventId: position });
        expect(late.messages).toEqual([]);
        // After the reset the stream is live, and the reset's id is a position to resume from.
        await publish(hub.url, 'news', 'fresh');
        expect((await late.waitForMessages(1))[0]!.data).toBe('fresh');
        late.close();
      } finally {
        first?.close();
        watcher.close();
        await hub.shutdown();
      }
    });

    it('sends hub.reset for an id this hub never issued', async () => {
      const hub = await startTestHub(await hubEnv());
      try {
        for (const id of ['nonsense', 'ffffffff-3', '9'.repeat(64)]) {
          const sub = new Subscriber(hub.url, ['x'], { lastEventId: id });
          await sub.open();
          expect(sub.events[0]!.type).toBe('hub.reset');
          expect(JSON.parse(sub.events[0]!.data)).toEqual({ reason: 'unknown-id', lastEventId: id });
          sub.close();
        }
      } finally {
        await hub.shutdown();
      }
    });

    it('sends hub.reset when this node stopped listening to the topic during the gap (JetStream: reads it back)', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_INTEREST_LINGER_MS: '0' }));
      const sub = new Subscriber(hub.url, ['rare']);
      try {
        await sub.open();
        const position = sub.events.at(-1)!.id;
        sub.close();
        await waitFor('the subscription to be released', () => hub.hub.subscriptionCount === 0);
        await publish(hub.url, 'rare', 'unseen');
        await publish(hub.url, 'other', 'moves the sequence on');
        await sleep(kind.name === 'nats' ? 100 : 0);
        const back = new Subscriber(hub.url, ['rare'], { lastEventId: position });
        await back.open();
        if (kind.name === 'jetstream') {
          // This node did not listen, but the stream kept it.
          expect(back.resets).toEqual([]);
          expect(back.messages.map((e) => e.data)).toEqual(['unseen']);
          back.close();
          return;
        }
        expect(back.resets.map((e) => JSON.parse(e.data).reason)).toEqual(['not-covered']);
        back.close();
      } finally {
        sub.close();
        await hub.shutdown();
      }
    });

    it('closes a slow consumer, which then resumes without loss', async () => {
      const hub = await startTestHub(await hubEnv({ HUB_MAX_BUFFERED_BYTES: '65536' }));
      const proxy = new TcpProxy(hub.port);
      const sub = new Subscriber(await proxy.start(), ['flood']);
      const payload = (i: number) => `${i} ${'x'.repeat(16 * 1024)}`;
      let published = 0;
      try {
        await sub.open();
        proxy.stall();
        // Publish until the hub gives up on the stalled stream (kernel buffers absorb a few MB first).
        while ((await slowCloses(hub.url)) === 0) {
          await publish(hub.url, 'flood', payload(published++));
          if (published > 4000) throw new Error('the hub never closed the stalled stream');
        }
        const closedAt = published;
        for (let i = 0; i < 20; i++) await publish(hub.url, 'flood', payload(published++));
        proxy.resume();
        await waitFor(`all ${published} events (have ${sub.messages.length})`, () => sub.messages.length >= published, 20_000);
        const marker = await passMarker(hub.url, 'flood', [sub], 20_000);
        expect(closedAt).toBeGreaterThan(0);
        expect(sub.resets).toEqual([]);
        expectExactly(sub.messagesBefore(marker).map((e) => e.data.split(' ')[0]!), published);
      } finally {
        sub.close();
        await proxy.close();
        await hub.shutdown();
      }
    });
  });
}

async function slowCloses(hubUrl: string): Promise<number> {
  return metricValue(await scrapeMetrics(hubUrl), 'ssehub_slow_consumer_closes_total') ?? 0;
}
