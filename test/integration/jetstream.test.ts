/**
 * JetStream mode with real processes: several hub replicas on one nats-server (JetStream on disk),
 * clients hopping between replicas through a load balancer without stickiness, NATS killed and
 * restarted, a replica SIGKILLed, and stream limits smaller than the gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { NO_DELIVERY_FAULTS, deliveryFaults } from '../helpers/delivery.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { passMarker } from '../helpers/marker.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** Clients retry after 50 ms, so a hop to another replica is quick. */
const QUICK_RETRY = { HUB_RETRY_MS: '50' };

/**
 * Expect exactly these payloads, in this order: nothing lost, nothing repeated, no reset. With a
 * marker (marker.ts), only what came before it counts, and nothing more can be on its way.
 */
function expectExactly(sub: Subscriber, expected: readonly string[], marker?: string): void {
  const faults = deliveryFaults((marker === undefined ? sub.messages : sub.messagesBefore(marker)).map((e) => e.data), expected);
  expect({ ...faults, resets: sub.resets.map((e) => e.data) }).toEqual({ ...NO_DELIVERY_FAULTS, resets: [] });
}

describe('JetStream replicas [jetstream]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('gives every event the same id on every replica, and answers publishes with it', async () => {
    const env = jetstreamEnv(nats, QUICK_RETRY);
    const a = await startTestHub(env);
    const b = await startTestHub(env);
    const onA = new Subscriber(a.url, ['ids']);
    const onB = new Subscriber(b.url, ['ids']);
    try {
      await Promise.all([onA.open(), onB.open()]);
      const answers = [await publish(a.url, 'ids', 'one'), await publish(b.url, 'ids', 'two')];
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      await onA.waitForMessages(2);
      await onB.waitForMessages(2);
      expect(onA.messages.map((e) => e.id)).toEqual(answers.map((r) => r.body.id));
      expect(onB.messages.map((e) => e.id)).toEqual(answers.map((r) => r.body.id));
    } finally {
      onA.close();
      onB.close();
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('de-duplicates a retried HTTP publish with the same Nats-Msg-Id', async () => {
    const hub = await startTestHub(jetstreamEnv(nats, QUICK_RETRY));
    const sub = new Subscriber(hub.url, ['orders']);
    try {
      await sub.open();
      const send = () => fetch(`${hub.url}/publish?topic=orders`, { method: 'POST', body: 'once', headers: { 'Nats-Msg-Id': 'order-1' } });
      const first = (await (await send()).json()) as { id: string };
      const again = (await (await send()).json()) as { id: string };
      expect(again.id).toBe(first.id);
      await publish(hub.url, 'orders', 'next');
      await sub.waitForMessages(2);
      expect(sub.messages.map((e) => e.data)).toEqual(['once', 'next']);
    } finally {
      sub.close();
      await hub.shutdown();
    }
  });

  it('lets clients hop between three replica processes while HTTP and NATS publishers go on: every event exactly once, in order', { timeout: 90_000 }, async () => {
    const env = jetstreamEnv(nats, QUICK_RETRY);
    const prefix = env.HUB_SUBJECT_PREFIX!;
    const hubs: HubProcess[] = [];
    const nc: NatsConnection = await connect({ servers: nats.url });
    const proxy = new TcpProxy([]);
    const subs: Subscriber[] = [];
    try {
      for (let i = 0; i < 3; i++) hubs.push(await startHubProcess(env));
      proxy.setTargets(hubs.map((h) => h.port));
      const lb = await proxy.start();
      const topicsOf = [['orders.*'], ['orders.>'], ['orders.eu', 'users.7'], ['users.*'], ['>']];
      for (const topics of topicsOf) subs.push(new Subscriber(lb, topics));
      await Promise.all(subs.map((s) => s.open()));

      const TOTAL = 400;
      const subjects = ['orders.eu', 'orders.us', 'users.7', 'users.8', 'orders.eu.lines'];
      const sent: Array<{ topic: string; data: string }> = [];
      const js = nc.jetstream();
      const publisher = (async () => {
        for (let i = 0; i < TOTAL; i++) {
          const topic = subjects[i % subjects.length]!;
          const data = `e${i}`;
          if (i % 2 === 0) {
            const res = await publish(hubs[i % 3]!.url, topic, data);
            expect(res.status).toBe(200);
          } else {
            await js.publish(`${prefix}.${topic}`, new TextEncoder().encode(data));
          }
          sent.push({ topic, data });
          if (i % 20 === 0) await sleep(5);
        }
      })();
      // Drop every client at random moments; each reconnect lands on a random replica.
      for (let cut = 0; cut < 6; cut++) {
        await sleep(100 + Math.random() * 200);
        proxy.cut();
      }
      await publisher;

      const matches = (pattern: string, topic: string) => {
        const p = pattern.split('.');
        const t = topic.split('.');
        for (let i = 0; i < p.length; i++) {
          if (p[i] === '>') return t.length > i;
          if (i >= t.length || (p[i] !== '*' && p[i] !== t[i])) return false;
        }
        return p.length === t.length;
      };
      const expectedOf = subs.map((_, i) => sent.filter((e) => topicsOf[i]!.some((p) => matches(p, e.topic))).map((e) => e.data));
      for (const [i, sub] of subs.entries()) {
        await waitFor(`client ${i} to get ${expectedOf[i]!.length} events (has ${sub.messages.length})`, () => sub.messages.length >= expectedOf[i]!.length, 20_000);
      }
      // No client follows every topic: a marker on orders.eu for those that follow it, then one on
      // users.7 for the rest; each client's own marker closes its list.
      const follows = (i: number, topic: string) => topicsOf[i]!.some((p) => matches(p, topic));
      const onOrders = await passMarker(hubs[0]!.url, 'orders.eu', subs.filter((_, i) => follows(i, 'orders.eu')), 20_000);
      const onUsers = await passMarker(hubs[0]!.url, 'users.7', subs.filter((_, i) => !follows(i, 'orders.eu')), 20_000);
      for (const [i, sub] of subs.entries()) {
        expectExactly(sub, expectedOf[i]!, follows(i, 'orders.eu') ? onOrders : onUsers);
        expect(sub.opens).toBeGreaterThan(1);
      }
    } finally {
      for (const s of subs) s.close();
      await proxy.close();
      await nc.close();
      for (const h of hubs) await h.stop('SIGKILL');
    }
  });

  it('loses and repeats nothing when NATS is killed and restarted mid-stream', { timeout: 90_000 }, async () => {
    const own = await startNatsServer({ jetstream: true });
    const env = jetstreamEnv(own, { ...QUICK_RETRY, HUB_HEARTBEAT_MS: '200' });
    const hub = await startTestHub(env);
    const subs = [new Subscriber(hub.url, ['feed']), new Subscriber(hub.url, ['feed.>', 'feed'])];
    const published: string[] = [];
    let refused = 0;
    let stop = false;
    try {
      await Promise.all(subs.map((s) => s.open()));
      // A publisher that retries with the same Nats-Msg-Id until it gets an id: a publish whose answer
      // was lost (timeout) may have been stored, and the retry must not store it twice.
      const publishOnce = async (data: string): Promise<void> => {
        for (;;) {
          const res = await fetch(`${hub.url}/publish?topic=feed`, { method: 'POST', body: data, headers: { 'Nats-Msg-Id': data }, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
          if (res?.status === 200) return;
          refused++;
          // 503: refused before sending; 504: sent as NATS went away, so the retry settles it.
          if (res) expect([503, 504]).toContain(res.status);
          await sleep(20);
        }
      };
      const publisher = (async () => {
        for (let i = 0; !stop; i++) {
          await publishOnce(`f${i}`);
          published.push(`f${i}`);
        }
      })();
      await waitFor('some events before the outage', () => published.length >= 50, 10_000);
      await own.stop(true); // SIGKILL
      await waitFor('not ready during the outage', async () => (await fetch(`${hub.url}/readyz`)).status === 503, 10_000);
      await sleep(500);
      expect(hub.hub.connectionCount).toBe(2); // streams stay open through the outage
      await own.restart();
      await waitFor('ready after the restart', async () => (await fetch(`${hub.url}/readyz`)).status === 200, 20_000);
      const after = published.length;
      await waitFor('events after the restart', () => published.length >= after + 50, 20_000);
      stop = true;
      await publisher;
      expect(refused).toBeGreaterThan(0);
      for (const sub of subs) await waitFor(`all ${published.length} events (has ${sub.messages.length})`, () => sub.messages.length >= published.length, 20_000);
      const marker = await passMarker(hub.url, 'feed', subs, 20_000);
      for (const sub of subs) {
        expectExactly(sub, published, marker);
        expect(sub.opens).toBe(1);
      }
    } finally {
      stop = true;
      for (const s of subs) s.close();
      await hub.shutdown();
      await own[Symbol.asyncDispose]();
    }
  });

  it('resumes the clients of a SIGKILLed replica on another one without loss', { timeout: 90_000 }, async () => {
    const env = jetstreamEnv(nats, QUICK_RETRY);
    const a = await startHubProcess(env);
    const b = await startHubProcess(env);
    const proxy = new TcpProxy([a.port]);
    const subs: Subscriber[] = [];
    let restarted: HubProcess | undefined;
    try {
      const lb = await proxy.start();
      for (let i = 0; i < 4; i++) subs.push(new Subscriber(lb, ['jobs.*']));
      await Promise.all(subs.map((s) => s.open()));
      const published: string[] = [];
      for (let i = 0; i < 50; i++) {
        expect((await publish(b.url, 'jobs.x', `j${i}`)).status).toBe(200);
        published.push(`j${i}`);
      }
      await Promise.all(subs.map((s) => s.waitForMessages(20)));
      proxy.setTargets([b.port]);
      expect(await a.stop('SIGKILL')).toBe(null);
      for (let i = 50; i < 100; i++) {
        expect((await publish(b.url, 'jobs.y', `j${i}`)).status).toBe(200);
        published.push(`j${i}`);
      }
      restarted = await startHubProcess(env);
      proxy.setTargets([b.port, restarted.port]);
      for (let i = 100; i < 120; i++) {
        expect((await publish(restarted.url, 'jobs.z', `j${i}`)).status).toBe(200);
        published.push(`j${i}`);
      }
      for (const sub of subs) {
        await waitFor(`all ${published.length} (has ${sub.messages.length}: missing ${published.filter((p) => !sub.messages.some((m) => m.data === p))}; events ${JSON.stringify(sub.events.filter((e) => e.type !== "message"))}; opens ${sub.opens})`, () => sub.messages.length >= published.length, 20_000);
      }
      const marker = await passMarker(b.url, 'jobs.m', subs, 20_000);
      for (const sub of subs) expectExactly(sub, published, marker);
    } finally {
      for (const s of subs) s.close();
      await proxy.close();
      await a.stop('SIGKILL');
      await b.stop('SIGKILL');
      await restarted?.stop('SIGKILL');
    }
  });

  it('keeps setting the stream up until JetStream answers, then becomes ready', { timeout: 60_000 }, async () => {
    const plain = await startNatsServer(); // NATS without JetStream: stream setup fails
    const hub = await startTestHub(jetstreamEnv(plain, QUICK_RETRY), { unready: true });
    let withJs: NatsServer | undefined;
    try {
      await sleep(700);
      expect((await fetch(`${hub.url}/readyz`)).status).toBe(503);
      await plain.stop();
      withJs = await startNatsServer({ jetstream: true, port: plain.port });
      await waitFor('ready once JetStream answers', async () => (await fetch(`${hub.url}/readyz`)).status === 200, 30_000);
      const sub = new Subscriber(hub.url, ['late']);
      await sub.open();
      expect((await publish(hub.url, 'late', 'at last')).status).toBe(200);
      expect((await sub.waitForMessages(1))[0]!.data).toBe('at last');
      sub.close();
    } finally {
      await hub.shutdown();
      await withJs?.[Symbol.asyncDispose]();
      await plain[Symbol.asyncDispose]();
    }
  });

  it('positions a client whose id is ahead of this node and skips what it already has', async () => {
    const hub = await startTestHub(jetstreamEnv(nats, QUICK_RETRY));
    try {
      const probe = new Subscriber(hub.url, ['ahead']);
      await probe.open();
      const [epoch, head] = probe.events.at(-1)!.id.split('-') as [string, string];
      probe.close();
      // As if another replica had already delivered the next two events to this client.
      const ahead = `${epoch}-${Number(head) + 2}`;
      const sub = new Subscriber(hub.url, ['ahead'], { lastEventId: ahead });
      await sub.open();
      expect(sub.resets).toEqual([]);
      expect(sub.events.at(-1)).toMatchObject({ type: 'hub.open', id: ahead });
      for (const data of ['first', 'second', 'third']) expect((await publish(hub.url, 'ahead', data)).status).toBe(200);
      await sub.waitForMessages(1);
      const marker = await passMarker(hub.url, 'ahead', [sub]);
      expect(sub.messagesBefore(marker).map((e) => e.data)).toEqual(['third']);
      sub.close();
    } finally {
      await hub.shutdown();
    }
  });

  it('sends hub.reset exactly when the stream no longer holds what a client missed', async () => {
    const env = jetstreamEnv(nats, { ...QUICK_RETRY, HUB_JETSTREAM_MAX_MSGS: '5', HUB_REPLAY_MAX_EVENTS: '1' });
    const hub = await startTestHub(env);
    try {
      const first = new Subscriber(hub.url, ['limited']);
      await first.open();
      const position = first.events.at(-1)!.id;
      first.close();

      for (let i = 0; i < 4; i++) await publish(hub.url, 'limited', `a${i}`);
      const within = new Subscriber(hub.url, ['limited'], { lastEventId: position });
      await within.open();
      expect(within.resets).toEqual([]);
      expect(within.messages.map((e) => e.data)).toEqual(['a0', 'a1', 'a2', 'a3']);
      within.close();

      for (let i = 0; i < 6; i++) await publish(hub.url, 'limited', `b${i}`);
      const beyond = new Subscriber(hub.url, ['limited'], { lastEventId: position });
      await beyond.open();
      expect(beyond.resets.map((e) => JSON.parse(e.data))).toEqual([{ reason: 'history-gone', lastEventId: position }]);
      expect(beyond.messages).toEqual([]);
      beyond.close();
    } finally {
      await hub.shutdown();
    }
  });
});
