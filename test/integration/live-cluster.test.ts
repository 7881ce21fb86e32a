/**
 * Live subscriptions and presence across nodes: hubs on one real nats-server (each its own node with
 * its own NATS connection; a node to be SIGKILLed is a process of its own), requests
 * sent to a node other than the one holding the stream, server-side subscriptions reaching a
 * user's streams on two nodes, presence counted over three nodes, one of them SIGKILLed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { publish, startTestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { changeTopics, postJson, startNodes, streamOf, topicsEvents, type HubNode } from '../helpers/live.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { get } from '../helpers/http.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

const TYPES = ['hub.topics'];
// A short heartbeat so a gather stops waiting for a killed node soon; still far above a healthy beat.
const CONTROL = { HUB_CONTROL_HEARTBEAT_MS: '500', HUB_CONTROL_TIMEOUT_MS: '2000', HUB_RETRY_MS: '100' };

let nats: NatsServer | undefined;
let jsNats: NatsServer | undefined;
afterAll(async () => {
  await nats?.[Symbol.asyncDispose]();
  await jsNats?.[Symbol.asyncDispose]();
});

async function natsEnv(kind: 'nats' | 'jetstream'): Promise<Record<string, string>> {
  if (kind === 'nats') {
    nats ??= await startNatsServer();
    return { NATS_URL: nats.url, ...CONTROL };
  }
  jsNats ??= await startNatsServer({ jetstream: true });
  return jetstreamEnv(jsNats, CONTROL);
}

for (const kind of ['nats', 'jetstream'] as const) {
  describe(`[live] live subscriptions across nodes [${kind}]`, () => {
    it('a change sent to another node is applied on the stream\'s node; once that node is gone, 404', async () => {
      await using nodes = await startNodes(await natsEnv(kind), 2);
      const [holder, other] = nodes;
      using sub = new Subscriber(holder!.url, ['x.kept'], { types: TYPES });
      const { stream, key } = await streamOf(sub);
      // The key is checked where the stream is.
      expect((await changeTopics(other!.url, stream, { key: 'wrong', add: ['x.added'] })).body.code).toBe('wrong_stream_key');
      const change = await changeTopics(other!.url, stream, { key, add: ['x.added'] });
      expect(change).toEqual({ status: 200, body: { topics: ['x.kept', 'x.added'], id: expect.any(String) } });
      await topicsEvents(sub);
      expect(sub.events.find((e) => e.type === 'hub.topics')!.id).toBe(change.body.id);
      // Published on the other node: NATS brings it to the holder, and the added topic reaches the stream.
      await publish(other!.url, 'x.added', 'a1');
      await publish(other!.url, 'x.kept', 'k1');
      await sub.waitForMessages(2, 10_000);
      expect(sub.messages.map((e) => e.data)).toEqual(['a1', 'k1']);

      // Gone: its NATS connection closed, nobody serves its subject (a killed node: see presence below).
      await holder!.stop();
      const gone = await changeTopics(other!.url, stream, { key, add: ['x.more'] });
      expect({ status: gone.status, code: gone.body.code }).toEqual({ status: 404, code: 'stream_not_found' });
    }, 60_000);
  });
}

describe('[live] server-side subscriptions [nats]', () => {
  it('POST /users/<sub>/topics changes every stream of that user on every node, and only with manage grants', async () => {
    const env = { ...(await natsEnv('nats')), HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ALLOW_OPEN: '' };
    await using nodes = await startNodes(env, 2);
    const [a, b] = nodes;
    const tokenOf = async (user: string) => `Bearer ${await mint({ subscribe: ['lobby'] }, { subject: user })}`;
    const u1 = await tokenOf('u1');
    const u2 = await tokenOf('u2');
    using onA = new Subscriber(a!.url, ['lobby'], { headers: () => ({ authorization: u1 }), types: TYPES });
    using onB = new Subscriber(b!.url, ['lobby'], { headers: () => ({ authorization: u1 }), types: TYPES });
    using other = new Subscriber(a!.url, ['lobby'], { headers: () => ({ authorization: u2 }), types: TYPES });
    await Promise.all([onA.open(), onB.open(), other.open()]);

    const backend = { authorization: `Bearer ${await mint({ manage: ['rooms.>'] } as never, { subject: 'backend' })}` };
    const url = `${b!.url}/users/u1/topics`;
    expect((await postJson(url, { add: ['rooms.7'] })).status).toBe(401);
    expect((await postJson(url, { add: ['lobby.x'] }, backend)).body.code).toBe('forbidden_topic');
    const subscriber = { authorization: u1 };
    expect((await postJson(url, { add: ['rooms.7'] }, subscriber)).body.code).toBe('forbidden_topic');

    const answer = await postJson(url, { add: ['rooms.7'] }, backend);
    expect(answer).toEqual({ status: 200, body: { streams: 2, unchanged: 0, nodes: 2 } });
    await Promise.all([topicsEvents(onA), topicsEvents(onB)]);
    for (const sub of [onA, onB]) expect(JSON.parse(sub.events.find((e) => e.type === 'hub.topics')!.data)).toEqual({ topics: ['lobby', 'rooms.7'] });
    const publisher = { authorization: `Bearer ${await mint({ publish: ['>'] })}` };
    for (const topic of ['rooms.7', 'lobby']) {
      const res = await fetch(`${a!.url}/publish?topic=${topic}`, { method: 'POST', body: topic, headers: publisher, signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(202);
    }
    await Promise.all([onA.waitForMessages(2, 10_000), onB.waitForMessages(2, 10_000), other.waitForMessages(1, 10_000)]);
    await waitFor('the lobby event on the other user', () => other.messages.some((e) => e.data === 'lobby'), 10_000);
    expect(onA.messages.map((e) => e.data)).toEqual(['rooms.7', 'lobby']);
    expect(onB.messages.map((e) => e.data)).toEqual(['rooms.7', 'lobby']);
    expect(other.messages.map((e) => e.data)).toEqual(['lobby']);
    expect(other.events.some((e) => e.type === 'hub.topics')).toBe(false);
  });

  it('open mode refuses POST /users/<sub>/topics unless HUB_ANONYMOUS_MANAGE covers the topics', async () => {
    await using nodes = await startNodes({ ...(await natsEnv('nats')), HUB_ANONYMOUS_MANAGE: 'public.>' }, 1);
    const [hub] = nodes;
    expect((await postJson(`${hub!.url}/users/u1/topics`, { add: ['rooms.1'] })).body.code).toBe('forbidden_topic');
    expect(await postJson(`${hub!.url}/users/u1/topics`, { add: ['public.1'] })).toEqual({ status: 200, body: { streams: 0, unchanged: 0, nodes: 1 } });
  });
});

describe('[presence] presence across three nodes [nats]', () => {
  it('counts streams and members over all nodes; a SIGKILLed node drops out of the answer', async () => {
    const env = { ...(await natsEnv('nats')), HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ALLOW_OPEN: '', HUB_ANONYMOUS_SUBSCRIBE: 'room.*' };
    await using nodes = await startNodes(env, 3, 1);
    const bearer = async (user: string) => {
      const token = `Bearer ${await mint({ subscribe: ['room.>'] }, { subject: user })}`;
      return () => ({ authorization: token });
    };
    // node 0: ann twice (one wildcard), bob; node 1: ann, one anonymous; node 2: cid, one on another room.
    const subs = [
      new Subscriber(nodes[0]!.url, ['room.1'], { headers: await bearer('ann') }),
      new Subscriber(nodes[0]!.url, ['room.>', 'room.1'], { headers: await bearer('ann') }),
      new Subscriber(nodes[0]!.url, ['room.1'], { headers: await bearer('bob') }),
      new Subscriber(nodes[1]!.url, ['room.1'], { headers: await bearer('ann') }),
      new Subscriber(nodes[1]!.url, ['room.1']),
      new Subscriber(nodes[2]!.url, ['room.1'], { headers: await bearer('cid') }),
      new Subscriber(nodes[2]!.url, ['room.2'], { headers: await bearer('dan') }),
    ];
    try {
      await Promise.all(subs.map((sub) => sub.open()));
      const reader = { authorization: `Bearer ${await mint({ presence: ['room.>'] } as never)}` };
      const ask = async (node: HubNode, query: string, headers: Record<string, string> = reader) => {
        const res = await get(`${node.url}/presence?${query}`, headers);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const all = {
        topic: 'room.1',
        streams: 6,
        users: 3,
        members: [
          { user: 'ann', streams: 3 },
          { user: 'bob', streams: 1 },
          { user: 'cid', streams: 1 },
        ],
        truncated: false,
      };
      for (const node of nodes) expect(await ask(node, 'topic=room.1')).toEqual({ status: 200, body: all });
      expect((await ask(nodes[1]!, 'topic=room.1&limit=2')).body).toEqual({ ...all, members: all.members.slice(0, 2), truncated: true });
      // ann's `room.>` stream would get room.2's events too.
      expect((await ask(nodes[1]!, 'topic=room.2')).body).toMatchObject({ streams: 2, users: 2, members: [{ user: 'ann', streams: 1 }, { user: 'dan', streams: 1 }] });
      expect((await ask(nodes[1]!, 'topic=room.1', {})).body.code).toBe('unauthorized');
      expect((await ask(nodes[1]!, 'topic=room.*')).body.code).toBe('bad_topic');
      expect((await ask(nodes[1]!, 'topic=room.1&limit=5000')).body.code).toBe('bad_query');

      await nodes[0]!.stop('SIGKILL');
      // Its streams are never counted once it cannot answer: the first answer after the kill is right.
      expect((await ask(nodes[2]!, 'topic=room.1')).body).toEqual({
        ...all,
        streams: 3,
        users: 2,
        members: [
          { user: 'ann', streams: 1 },
          { user: 'cid', streams: 1 },
        ],
      });
    } finally {
      for (const sub of subs) sub.close();
    }
  }, 60_000);
});

describe('[live] the bus is down [nats]', () => {
  it('a change and a presence request answer 503 bus_unavailable, and the stream keeps its topics', async () => {
    await using server = await startNatsServer();
    await using hub = await startTestHub({ NATS_URL: server.url, ...CONTROL });
    using sub = new Subscriber(hub.url, ['d.one'], { types: TYPES });
    const { stream, key } = await streamOf(sub);
    await server.stop();
    await waitFor('the hub to see NATS gone', () => !hub.hub.bus.isConnected(), 10_000);
    const change = await changeTopics(hub.url, stream, { key, add: ['d.two'] });
    expect({ status: change.status, code: change.body.code }).toEqual({ status: 503, code: 'bus_unavailable' });
    const presence = await get(`${hub.url}/presence?topic=d.one`);
    expect(presence.status).toBe(503);
    expect(sub.events.some((e) => e.type === 'hub.topics')).toBe(false);
  });
});
