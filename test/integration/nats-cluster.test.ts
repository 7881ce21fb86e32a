/**
 * Core NATS specifics against a real nats-server: backends publishing straight to NATS, several hubs
 * on one NATS, and a NATS outage (streams stay up, readiness and publish say so, clients are reset).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, type NatsConnection } from 'nats';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

describe('core NATS [nats]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('delivers what a backend publishes straight to NATS, with the Sse-Event header as type', async () => {
    const hub = await startTestHub({ NATS_URL: nats.url });
    const nc: NatsConnection = await connect({ servers: nats.url });
    const sub = new Subscriber(hub.url, ['orders.>'], { types: ['shipped'] });
    try {
      await sub.open();
      const h = headers();
      h.set('Sse-Event', 'shipped');
      nc.publish('sse.orders.7', new TextEncoder().encode('{"id":7}\n{"more":true}'), { headers: h });
      nc.publish('sse.orders.8', new TextEncoder().encode('plain'));
      nc.publish('other.orders.9', new TextEncoder().encode('outside the prefix'));
      const bad = headers();
      bad.set('Sse-Event', 'hub.reset');
      nc.publish('sse.orders.10', new TextEncoder().encode('forged'), { headers: bad });
      await nc.flush();
      await sub.waitForMessages(2);
      // A later marker: the forged hub.reset, published before it, would have arrived by then.
      nc.publish('sse.orders.marker', new TextEncoder().encode('marker'));
      await nc.flush();
      await sub.waitForMessages(3);
      expect(sub.messagesBefore('marker').map((e) => [e.type, e.data])).toEqual([
        ['shipped', '{"id":7}\n{"more":true}'],
        ['message', 'plain'],
      ]);
      expect(sub.resets).toEqual([]);
    } finally {
      sub.close();
      await nc.close();
      await hub.shutdown();
    }
  });

  it('carries an HTTP publish on one hub to subscribers on every hub', async () => {
    const hubs: TestHub[] = [];
    const subs: Subscriber[] = [];
    try {
      for (let i = 0; i < 3; i++) hubs.push(await startTestHub({ NATS_URL: nats.url }));
      for (const hub of hubs) subs.push(new Subscriber(hub.url, ['chat.room1']));
      await Promise.all(subs.map((s) => s.open()));
      for (let i = 0; i < 30; i++) await publish(hubs[i % 3]!.url, 'chat.room1', `m${i}`);
      for (const sub of subs) {
        await sub.waitForMessages(30);
        expect(sub.messages.map((e) => e.data)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
      }
    } finally {
      for (const s of subs) s.close();
      for (const h of hubs) await h.shutdown();
    }
  });

  it('survives a NATS restart: streams stay open, not ready and 503 meanwhile, then resets and flows again', async () => {
    const own = await startNatsServer();
    const hub = await startTestHub({ NATS_URL: own.url, HUB_HEARTBEAT_MS: '200', HUB_RETRY_MS: '100' });
    const sub = new Subscriber(hub.url, ['live']);
    try {
      await sub.open();
      await publish(hub.url, 'live', 'before');
      await sub.waitForMessages(1);

      await own.stop();
      await waitFor('the hub to notice', async () => (await fetch(`${hub.url}/readyz`)).status === 503, 10_000);
      const refused = await publish(hub.url, 'live', 'during');
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('bus_unavailable');
      await sleep(500); // heartbeats keep the stream open meanwhile
      expect(hub.hub.connectionCount).toBe(1);
      expect(sub.opens).toBe(1);

      await own.restart();
      await waitFor('ready again', async () => (await fetch(`${hub.url}/readyz`)).status === 200, 15_000);
      await waitFor('hub.reset for the outage', () => sub.resets.length === 1, 5000);
      expect(JSON.parse(sub.resets[0]!.data).reason).toBe('bus-reconnected');
      // Re-subscribed by itself: events flow again on the same stream.
      await waitFor('delivery after the restart', async () => {
        await publish(hub.url, 'live', 'after');
        await sleep(100);
        return sub.messages.some((e) => e.data === 'after');
      }, 10_000);
      expect(sub.opens).toBe(1);
    } finally {
      sub.close();
      await hub.shutdown();
      await own[Symbol.asyncDispose]();
    }
  });

  it('starts while NATS is down, reports not ready, and connects when NATS appears', async () => {
    const later = await startNatsServer();
    await later.stop();
    const hub = await startTestHub({ NATS_URL: later.url }, { unready: true });
    try {
      const res = await fetch(`${hub.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ bus: 'disconnected' });
      await later.restart();
      await waitFor('ready once NATS is up', async () => (await fetch(`${hub.url}/readyz`)).status === 200, 15_000);
      const sub = new Subscriber(hub.url, ['late']);
      await sub.open();
      await publish(hub.url, 'late', 'hello');
      expect((await sub.waitForMessages(1))[0]!.data).toBe('hello');
      sub.close();
    } finally {
      await hub.shutdown();
      await later[Symbol.asyncDispose]();
    }
  });
});
