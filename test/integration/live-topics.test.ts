/**
 * Live subscriptions on one node, once per bus: POST /streams/<id>/topics while a publisher
 * publishes on kept, added and removed topics; the change takes effect at the hub.topics position,
 * and a reconnect with the new set and Last-Event-ID resumes exactly. Refusals change nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { NO_DELIVERY_FAULTS, deliveryFaults } from '../helpers/delivery.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { changeTopics, postJson, seqOf, streamOf, topicsEvents } from '../helpers/live.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

const TYPES = ['hub.topics'];

for (const kind of busKinds()) {
  describe(`[live] live subscriptions [${kind.name}]`, () => {
    afterAll(() => kind.dispose());
    const hubEnv = async (extra: Record<string, string> = {}) => ({ HUB_RETRY_MS: '100', ...(await kind.env()), ...extra });

    it('adds and removes topics at one position while events flow: nothing lost or repeated on the kept topic', async () => {
      await using hub = await startTestHub(await hubEnv());
      using sub = new Subscriber(hub.url, ['keep', 'drop'], { types: TYPES });
      const { stream, key } = await streamOf(sub);
      expect(stream).toMatch(/^[0-9a-f]+\.\d+$/);
      expect(key).toMatch(/^[A-Za-z0-9_-]{24}$/);

      // Published one at a time, in this order, on the three topics, while the change is made.
      const published: Record<string, string[]> = { keep: [], drop: [], add: [] };
      const ids = new Map<string, number>();
      let stop = false;
      const publisher = (async () => {
        for (let n = 0; !stop || n < 30; n++) {
          for (const topic of ['keep', 'drop', 'add'] as const) {
            const data = `${topic}-${n}`;
            const answer = await publish(hub.url, topic, data);
            expect(answer.status).toBeLessThan(300);
            published[topic]!.push(data);
            if (typeof answer.body.id === 'string') ids.set(data, seqOf(answer.body.id));
          }
        }
      })();
      await sub.waitForMessages(9);
      const change = await changeTopics(hub.url, stream, { key, add: ['add'], remove: ['drop'] });
      stop = true;
      await publisher;
      expect(change).toEqual({ status: 200, body: { topics: ['keep', 'add'], id: expect.any(String) } });
      const marker = await publish(hub.url, 'keep', 'end');
      expect(marker.status).toBeLessThan(300);
      await waitFor('the end marker', () => sub.messages.some((e) => e.data === 'end'));

      const topicsAt = sub.events.findIndex((e) => e.type === 'hub.topics');
      const event = sub.events[topicsAt]!;
      expect(event.id).toBe(change.body.id);
      expect(JSON.parse(event.data)).toEqual({ topics: ['keep', 'add'] });
      const before = sub.events.slice(0, topicsAt).map((e) => e.data);
      const after = sub.events.slice(topicsAt + 1).map((e) => e.data);
      const on = (list: string[], topic: string) => list.filter((d) => d.startsWith(`${topic}-`));

      // Kept: every event, once, in order, across the change.
      expect(deliveryFaults(on([...before, ...after], 'keep'), published.keep!)).toEqual(NO_DELIVERY_FAULTS);
      // Removed: a prefix of what was published, all of it before the position; added: a suffix, all after.
      expect(on(after, 'drop')).toEqual([]);
      expect(on(before, 'add')).toEqual([]);
      expect(on(before, 'drop')).toEqual(published.drop!.slice(0, on(before, 'drop').length));
      const added = on(after, 'add');
      expect(added.length).toBeGreaterThan(0);
      expect(added).toEqual(published.add!.slice(published.add!.length - added.length));
      if (ids.size > 0) {
        // Where the bus numbers events at publish, the position splits them exactly.
        const position = seqOf(event.id);
        expect(on(before, 'drop')).toEqual(published.drop!.filter((d) => ids.get(d)! <= position));
        expect(added).toEqual(published.add!.filter((d) => ids.get(d)! > position));
      }
    });

    it('a stream that drops after a change resumes with its new topics from Last-Event-ID exactly', async () => {
      await using hub = await startTestHub(await hubEnv());
      const first = new Subscriber(hub.url, ['r.old'], { types: TYPES });
      const { stream, key } = await streamOf(first);
      const change = await changeTopics(hub.url, stream, { key, add: ['r.new'], remove: ['r.old'] });
      expect(change.status).toBe(200);
      await topicsEvents(first);
      await publish(hub.url, 'r.new', 'n1');
      await publish(hub.url, 'r.old', 'o1');
      await first.waitForMessages(1);
      const lastId = first.events.at(-1)!.id;
      first.close();
      expect(first.messages.map((e) => e.data)).toEqual(['n1']);

      for (const data of ['n2', 'o2', 'n3']) await publish(hub.url, data.startsWith('n') ? 'r.new' : 'r.old', data);
      using second = new Subscriber(hub.url, ['r.new'], { lastEventId: lastId, types: TYPES });
      await second.waitForMessages(2);
      await publish(hub.url, 'r.new', 'n4');
      await second.waitForMessages(3);
      expect(second.resets).toEqual([]);
      expect(second.messages.map((e) => e.data)).toEqual(['n2', 'n3', 'n4']);
    });

    it('refuses a wrong key, an unknown stream, too many topics, an empty set and a bad body, and changes nothing', async () => {
      await using hub = await startTestHub(await hubEnv({ HUB_MAX_TOPICS: '2' }));
      using sub = new Subscriber(hub.url, ['t.one'], { types: TYPES });
      const { stream, key } = await streamOf(sub);
      const refusals = [
        [await changeTopics(hub.url, stream, { key: key.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), add: ['t.two'] }), 403, 'wrong_stream_key'],
        [await changeTopics(hub.url, stream, { key: '', add: ['t.two'] }), 400, 'bad_request'],
        [await changeTopics(hub.url, `${stream.split('.')[0]}.999999`, { key, add: ['t.two'] }), 404, 'stream_not_found'],
        // A well-formed id of a node that does not exist: nobody answers for it.
        [await changeTopics(hub.url, 'abcdef012345.1', { key, add: ['t.two'] }), 404, 'stream_not_found'],
        [await changeTopics(hub.url, 'not-an-id', { key, add: ['t.two'] }), 404, 'stream_not_found'],
        [await changeTopics(hub.url, stream, { key, add: ['t.two', 't.three'] }), 400, 'too_many_topics'],
        [await changeTopics(hub.url, stream, { key, remove: ['t.one'] }), 400, 'no_topic'],
        [await changeTopics(hub.url, stream, { key }), 400, 'no_topic'],
        [await changeTopics(hub.url, stream, { key, add: ['bad..topic'] }), 400, 'bad_topic'],
        [await postJson(`${hub.url}/streams/${stream}/topics`, '{"key":'), 400, 'bad_request'],
        [await postJson(`${hub.url}/streams/${stream}/topics`, { key, add: 't.two' }), 400, 'bad_request'],
      ] as const;
      for (const [answer, status, code] of refusals) expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });
      await publish(hub.url, 't.one', 'still here');
      await publish(hub.url, 't.two', 'not added');
      await publish(hub.url, 't.one', 'end');
      await sub.waitForMessages(2);
      expect(sub.events.map((e) => e.type)).toEqual(['hub.open', 'message', 'message']);
      expect(sub.messages.map((e) => e.data)).toEqual(['still here', 'end']);
    });
  });
}

describe('[live] live subscriptions with tokens [memory]', () => {
  const env = { HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_RETRY_MS: '100' };

  it('an added topic must be allowed by the credentials, exactly as on GET /events', async () => {
    await using hub = await startTestHub(env);
    const token = await mint({ subscribe: ['rooms.*'] }, { subject: 'u1' });
    const bearer = { authorization: `Bearer ${token}` };
    using sub = new Subscriber(hub.url, ['rooms.1'], { headers: () => bearer, types: TYPES });
    const { stream, key } = await streamOf(sub);
    expect((await changeTopics(hub.url, stream, { key, add: ['rooms.2'] })).body.code).toBe('unauthorized');
    expect((await changeTopics(hub.url, stream, { key, add: ['secret.1'] }, bearer)).body.code).toBe('forbidden_topic');
    // A removal needs no grant: it only narrows what the stream gets.
    expect((await changeTopics(hub.url, stream, { key, add: ['rooms.2'], remove: ['rooms.1'] }, bearer)).body).toEqual({ topics: ['rooms.2'], id: expect.any(String) });
    // The cookie a browser's EventSource carries works as on GET /events.
    expect((await changeTopics(hub.url, stream, { key, add: ['rooms.3'] }, { cookie: `ssehub_token=${token}` })).status).toBe(200);
    await topicsEvents(sub, 2);
  });
});
