/**
 * The batch form of POST /publish, on a real hub over the embedded bus and over JetStream: the whole
 * batch is checked before anything is published, ids come back one per event in order, and a refusal
 * of any event (a bad field, a topic the token may not publish to) publishes nothing. "Nothing" is
 * shown by a marker event published after the refused batch: the subscriber gets the marker and
 * nothing before it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub, publish, type TestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface BatchItem {
  readonly topic: unknown;
  readonly data?: unknown;
  readonly event?: unknown;
  readonly id?: unknown;
  readonly [extra: string]: unknown;
}

async function publishBatch(hub: TestHub, items: readonly BatchItem[], options: { ndjson?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  const body = options.ndjson ? items.map((item) => JSON.stringify(item)).join('\n') + '\n' : JSON.stringify(items);
  const res = await fetch(`${hub.url}/publish`, {
    method: 'POST',
    body,
    headers: { 'content-type': options.ndjson ? 'application/x-ndjson' : 'application/json', ...options.headers },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type EventAnswer = { id?: string; msgId: string };
const eventsOf = (answer: Answer): EventAnswer[] => answer.body.events as EventAnswer[];

/** Publishes a marker on `topic` and waits for it: everything published before it has arrived by then. */
async function settle(hub: TestHub, sub: Subscriber, topic: string, expectedBefore: number): Promise<void> {
  expect((await publish(hub.url, topic, 'marker')).status).toBe(200);
  await sub.waitForMessages(expectedBefore + 1, 10_000);
}

for (const kind of busKinds().filter((k) => k.name !== 'nats')) {
  describe(`batch publish [${kind.name}]`, () => {
    afterAll(() => kind.dispose());

    it(`[${kind.name}] answers one id per event, in order, and delivers them in that order (JSON array and NDJSON)`, async () => {
      await using hub = await startTestHub(await kind.env());
      using sub = new Subscriber(hub.url, ['orders.1', 'orders.2'], { types: ['created'] });
      await sub.open();
      const items = [
        { topic: 'orders.1', data: 'a' },
        { topic: 'orders.2', data: 'b', event: 'created' },
        { topic: 'orders.1', data: 'line one\nline two' },
      ];
      const array = await publishBatch(hub, items);
      expect(array.status).toBe(200);
      const ndjson = await publishBatch(hub, items, { ndjson: true });
      expect(ndjson.status).toBe(200);
      const answered = [...eventsOf(array), ...eventsOf(ndjson)];
      expect(answered).toHaveLength(6);
      const received = await sub.waitForMessages(6, 10_000);
      expect(received.map((e) => e.id)).toEqual(answered.map((a) => a.id));
      expect(received.map((e) => e.data)).toEqual([...items, ...items].map((item) => item.data));
      expect(received.map((e) => e.type)).toEqual(['message', 'created', 'message', 'message', 'created', 'message']);
      // Every event has its own key.
      expect(new Set(answered.map((a) => a.msgId)).size).toBe(6);
    });

    it(`[${kind.name}] checks the whole batch first: one bad event refuses it, naming its index, and nothing is published`, async () => {
      await using hub = await startTestHub({ ...(await kind.env()), HUB_PUBLISH_MAX_BATCH_EVENTS: '4', HUB_MAX_EVENT_BYTES: '16' });
      using sub = new Subscriber(hub.url, ['orders.>']);
      await sub.open();
      const good = { topic: 'orders.1', data: 'fine' };
      const refusals: Array<[readonly BatchItem[], number, string, number | undefined]> = [
        [[good, good, { topic: 'orders.*', data: 'x' }], 400, 'wildcard_publish', 2],
        [[good, { topic: 'orders..1', data: 'x' }], 400, 'bad_topic', 1],
        [[{ topic: 'orders.1', data: 'x', event: 'hub.open' }, good], 400, 'bad_event_type', 0],
        [[good, { topic: 'orders.1', data: 42 }], 400, 'bad_payload', 1],
        [[good, good, good, { topic: 'orders.1', data: 'x'.repeat(17) }], 413, 'payload_too_large', 3],
        [[good, { topic: 'orders.1', data: 'x', evnet: 'typo' }], 400, 'bad_batch', 1],
        [[good, { topic: 'orders.1', data: 'x', id: 'has space' }], 400, 'bad_msg_id', 1],
        [[good, 'not an object' as unknown as BatchItem], 400, 'bad_batch', 1],
        [[good, good, good, good, good], 413, 'payload_too_large', undefined],
        [[], 400, 'bad_batch', undefined],
      ];
      for (const [items, status, code, index] of refusals) {
        const answer = await publishBatch(hub, items);
        expect({ status: answer.status, code: answer.body.code, index: answer.body.index }).toEqual({ status, code, index: index === undefined ? undefined : String(index) });
        if (index !== undefined) expect(answer.body.error).toMatch(new RegExp(`^event ${index}: `));
      }
      const ndjson = await fetch(`${hub.url}/publish`, { method: 'POST', body: '{"topic":"orders.1","data":"a"}\n{nope\n', headers: { 'content-type': 'application/x-ndjson' } });
      expect(ndjson.status).toBe(400);
      expect(await ndjson.json()).toMatchObject({ code: 'bad_batch', index: '1' });
      await settle(hub, sub, 'orders.1', 0);
      expect(sub.messages.map((e) => e.data)).toEqual(['marker']);
    });

    it(`[${kind.name}] refuses the whole batch when the token may not publish to one of its topics`, async () => {
      await using hub = await startTestHub({ ...(await kind.env()), HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ANONYMOUS_SUBSCRIBE: '>', HUB_ANONYMOUS_PUBLISH: 'marker' });
      using sub = new Subscriber(hub.url, ['orders.>', 'admin.>', 'marker']);
      await sub.open();
      const token = await mint({ publish: ['orders.*'] });
      const headers = { authorization: `Bearer ${token}` };
      const refused = await publishBatch(hub, [{ topic: 'orders.1', data: 'a' }, { topic: 'admin.1', data: 'b' }], { headers });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'forbidden_topic' });
      const allowed = await publishBatch(hub, [{ topic: 'orders.1', data: 'a' }, { topic: 'orders.2', data: 'b' }], { headers });
      expect(allowed.status).toBe(200);
      await settle(hub, sub, 'marker', 2);
      expect(sub.messages.map((e) => e.data)).toEqual(['a', 'b', 'marker']);
    });

    it(`[${kind.name}] counts every event of a batch against the publish rate`, async () => {
      await using hub = await startTestHub({ ...(await kind.env()), HUB_PUBLISH_RATE: '1', HUB_PUBLISH_BURST: '3' });
      const items = [{ topic: 'orders.1', data: 'a' }, { topic: 'orders.1', data: 'b' }];
      expect((await publishBatch(hub, items)).status).toBe(200);
      // One token left of three: a batch of two is refused as a whole.
      const limited = await publishBatch(hub, items);
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: 'rate_limited' });
      const tooBig = await publishBatch(hub, [...items, ...items]);
      expect(tooBig.body).toMatchObject({ code: 'rate_limited' });
      expect(String(tooBig.body.error)).toMatch(/more than the publish burst/);
    });

    if (kind.name === 'jetstream') {
      it('[jetstream] stores a retried batch once: each event keeps the key made of the Idempotency-Key and its index', async () => {
        await using hub = await startTestHub(await kind.env());
        using sub = new Subscriber(hub.url, ['retry.>']);
        await sub.open();
        const items = [{ topic: 'retry.1', data: 'a' }, { topic: 'retry.2', data: 'b' }, { topic: 'retry.1', data: 'c', id: 'own-key' }];
        const headers = { 'idempotency-key': `batch-${Date.now()}` };
        const first = await publishBatch(hub, items, { headers });
        const again = await publishBatch(hub, items, { headers });
        expect(first.status).toBe(200);
        expect(eventsOf(again)).toEqual(eventsOf(first));
        expect(eventsOf(first).map((e) => e.msgId)).toEqual([`${headers['idempotency-key']}:0`, `${headers['idempotency-key']}:1`, 'own-key']);
        expect((await publish(hub.url, 'retry.1', 'marker')).status).toBe(200);
        await sub.waitForMessages(4, 10_000);
        expect(sub.messages.map((e) => e.data)).toEqual(['a', 'b', 'c', 'marker']);
        const published = metricValue(await scrapeMetrics(hub.url), 'ssehub_events_published_total');
        expect(published).toBe(4);
      });
    }
  });
}
