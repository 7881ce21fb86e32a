/**
 * A publish's de-duplication key, against a real hub: `Idempotency-Key` (the HTTP name for what NATS
 * calls `Nats-Msg-Id`) makes a JetStream retry land once, with the first copy's id, counted once;
 * a key that is not 1-128 visible ASCII characters is refused with `bad_msg_id` and publishes
 * nothing. And a bus message whose event type may not be sent (reserved, or longer than HUB_MAX_EVENT_TYPE_LENGTH) is dropped and counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers } from 'nats';
import { publish, startTestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';

const post = (hubUrl: string, topic: string, body: string, key: Record<string, string>) =>
  fetch(`${hubUrl}/publish?topic=${topic}`, { method: 'POST', body, headers: key, signal: AbortSignal.timeout(5000) });

describe('publish keys and rejected bus events [jetstream] [nats]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('stores a retry under the same Idempotency-Key once, answers it with the first id and counts one publish', async () => {
    await using hub = await startTestHub(jetstreamEnv(nats));
    using sub = new Subscriber(hub.url, ['orders']);
    await sub.open();
    const first = await post(hub.url, 'orders', 'once', { 'Idempotency-Key': 'order-7' });
    const again = await post(hub.url, 'orders', 'once', { 'Idempotency-Key': 'order-7' });
    const [a, b] = [(await first.json()) as { id: string; msgId: string }, (await again.json()) as { id: string; msgId: string }];
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(b).toEqual(a);
    expect(a.msgId).toBe('order-7');
    // A later marker: had the retry been stored, it would have arrived before it.
    await publish(hub.url, 'orders', 'marker');
    await sub.waitForMessages(2);
    expect(sub.messages.map((e) => e.data)).toEqual(['once', 'marker']);
    expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_events_published_total')).toBe(2);
  });

  it('refuses a key that is not 1-128 visible ASCII characters with 400 bad_msg_id, and publishes nothing', async () => {
    await using hub = await startTestHub(jetstreamEnv(nats));
    using sub = new Subscriber(hub.url, ['orders']);
    await sub.open();
    const badKeys: Record<string, string>[] = [{ 'Idempotency-Key': 'has space' }, { 'Nats-Msg-Id': 'k'.repeat(129) }, { 'Idempotency-Key': 'tab\there' }];
    for (const key of badKeys) {
      const res = await post(hub.url, 'orders', 'refused', key);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: { error: 'Nats-Msg-Id / Idempotency-Key must be 1-128 visible ASCII characters', code: 'bad_msg_id' },
      });
    }
    expect((await post(hub.url, 'orders', 'longest', { 'Idempotency-Key': 'k'.repeat(128) })).status).toBe(200);
    await sub.waitForMessages(1);
    expect(sub.messages.map((e) => e.data)).toEqual(['longest']);
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'bad_msg_id' })).toBe(3);
    expect(metricValue(metrics, 'ssehub_events_published_total')).toBe(1);
  });

  it('drops a bus message with a reserved or too long event type, counts it, and delivers what follows', async () => {
    await using hub = await startTestHub({ NATS_URL: nats.url, HUB_SUBJECT_PREFIX: 'rejects' });
    using sub = new Subscriber(hub.url, ['t'], { types: ['ok'] });
    await sub.open();
    const nc = await connect({ servers: nats.url });
    try {
      for (const type of ['hub.open', 'x'.repeat(129), 'ok']) {
        const h = headers();
        h.set('Sse-Event', type);
        nc.publish('rejects.t', new TextEncoder().encode(type), { headers: h });
      }
      await nc.flush();
    } finally {
      await nc.close();
    }
    await sub.waitForMessages(1);
    expect(sub.messages.map((e) => [e.type, e.data])).toEqual([['ok', 'ok']]);
    expect(sub.events.filter((e) => e.type === 'hub.open')).toHaveLength(1);
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_bus_events_rejected_total', { reason: 'bad-event-type' })).toBe(2);
    expect(metricValue(metrics, 'ssehub_events_received_total')).toBe(1);
  });
});
