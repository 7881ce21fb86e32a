/**
 * hub.join / hub.leave across two hubs on one real nats-server (each its own node, with its own
 * NATS connection), and on one embedded-bus hub: one join per user however
 * many streams and nodes, a leave only after the grace period, none for a reconnect within it, and a
 * reconnect storm that gives no event at all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { startNodes as startHubs, type HubNode } from '../helpers/live.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

const PRESENCE_TYPES = ['hub.join', 'hub.leave'];
let nats: NatsServer | undefined;
afterAll(async () => void (await nats?.[Symbol.asyncDispose]()));

async function startNodes(graceMs: number): Promise<HubNode[] & AsyncDisposable> {
  nats ??= await startNatsServer();
  const env = {
    NATS_URL: nats.url,
    HUB_AUTH_HS256_SECRET: HS256_SECRET,
    HUB_ALLOW_OPEN: '',
    HUB_ANONYMOUS_SUBSCRIBE: 'room.*',
    HUB_PRESENCE_EVENTS: 'room.*',
    HUB_PRESENCE_LEAVE_GRACE_MS: String(graceMs),
    HUB_CONTROL_HEARTBEAT_MS: '300',
    HUB_RETRY_MS: '100',
  };
  return startHubs(env, 2);
}

/** A stream of `user` on room.1 at `node`. */
async function streamAs(node: HubNode, user: string): Promise<Subscriber> {
  const token = await mint({ subscribe: ['room.*'] }, { subject: user });
  return new Subscriber(node.url, ['room.1'], { headers: () => ({ authorization: `Bearer ${token}` }) });
}

/** What `watcher` got of presence events, as "join:user" / "leave:user". */
function presenceOf(watcher: Subscriber): string[] {
  return watcher.events.filter((e) => PRESENCE_TYPES.includes(e.type)).map((e) => `${e.type.slice(4)}:${(JSON.parse(e.data) as { user: string }).user}`);
}

/**
 * Nodes publish presence events only once they know every live node (a heartbeat interval after
 * start): a probe user's join is the sign that they do. Each try is a new user.
 */
async function untilPresenceLive(node: HubNode, watcher: Subscriber): Promise<Subscriber> {
  for (let attempt = 0; ; attempt++) {
    const probe = await streamAs(node, `probe-${attempt}`);
    try {
      await waitFor('a probe join', () => presenceOf(watcher).includes(`join:probe-${attempt}`), 2000);
      return probe;
    } catch (err) {
      probe.close();
      if (attempt >= 10) throw err;
    }
  }
}

describe('[presence] join and leave events across two nodes [nats]', () => {
  it('one join per user over streams on both nodes, a leave only once the last stream has been gone for the grace period', async () => {
    await using nodes = await startNodes(1500);
    const [a, b] = nodes;
    using watcher = new Subscriber(a!.url, ['room.1'], { types: PRESENCE_TYPES });
    await watcher.open();
    using probe = await untilPresenceLive(b!, watcher);

    const first = await streamAs(a!, 'ann');
    await first.open();
    await waitFor('ann joins', () => presenceOf(watcher).includes('join:ann'));
    const second = await streamAs(b!, 'ann');
    await second.open();
    first.close();
    // A reconnect within the grace period: the last stream goes and a new one comes on the other node.
    second.close();
    const third = await streamAs(a!, 'ann');
    await third.open();
    third.close();
    await waitFor('ann leaves', () => presenceOf(watcher).includes('leave:ann'), 10_000);
    expect(presenceOf(watcher).filter((e) => !e.includes('probe'))).toEqual(['join:ann', 'leave:ann']);
    // The events travel the bus like any event: they carry ids.
    expect(watcher.events.filter((e) => PRESENCE_TYPES.includes(e.type)).every((e) => e.id !== '')).toBe(true);
  }, 60_000);

  it('a reconnect storm within the grace period gives no join and no leave', async () => {
    await using nodes = await startNodes(5000);
    const [a, b] = nodes;
    using watcher = new Subscriber(a!.url, ['room.1'], { types: PRESENCE_TYPES });
    await watcher.open();
    using probe = await untilPresenceLive(a!, watcher);
    const users = Array.from({ length: 40 }, (_, i) => `user-${String(i).padStart(2, '0')}`);
    let streams = await Promise.all(users.map((user, i) => streamAs(nodes[i % 2]!, user)));
    try {
      await Promise.all(streams.map((stream) => stream.open(1, 10_000)));
      await waitFor('every user joined', () => users.every((user) => presenceOf(watcher).includes(`join:${user}`)), 10_000);
      // Every stream drops and comes back on the other node.
      for (const stream of streams) stream.close();
      streams = await Promise.all(users.map((user, i) => streamAs(nodes[(i + 1) % 2]!, user)));
      await Promise.all(streams.map((stream) => stream.open(1, 10_000)));
      // A user who leaves after the storm: its leave comes after any the storm could have caused.
      const last = await streamAs(b!, 'zz-last');
      await last.open();
      await waitFor('zz-last joins', () => presenceOf(watcher).includes('join:zz-last'), 10_000);
      last.close();
      await waitFor('zz-last leaves', () => presenceOf(watcher).includes('leave:zz-last'), 20_000);
      const got = presenceOf(watcher);
      expect(got.filter((e) => e.includes(':user-')).sort()).toEqual(users.map((user) => `join:${user}`));
      expect(got.filter((e) => e.includes(':zz-last'))).toEqual(['join:zz-last', 'leave:zz-last']);
    } finally {
      for (const stream of streams) stream.close();
    }
  }, 60_000);
});

describe('[presence] join and leave events on one node [memory]', () => {
  it('a join for the first stream, none for a second or a reconnect within the grace period, a leave after it', async () => {
    await using hub = await startTestHub({
      HUB_AUTH_HS256_SECRET: HS256_SECRET,
      HUB_ANONYMOUS_SUBSCRIBE: 'room.*',
      HUB_PRESENCE_EVENTS: 'room.*',
      HUB_PRESENCE_LEAVE_GRACE_MS: '3000',
      HUB_CONTROL_HEARTBEAT_MS: '100',
    });
    const node: HubNode = { url: hub.url, stop: () => hub.shutdown() };
    using watcher = new Subscriber(hub.url, ['room.1'], { types: PRESENCE_TYPES });
    await watcher.open();
    using probe = await untilPresenceLive(node, watcher);
    const first = await streamAs(node, 'ann');
    const second = await streamAs(node, 'ann');
    await Promise.all([first.open(), second.open()]);
    first.close();
    second.close();
    const again = await streamAs(node, 'ann');
    await again.open();
    again.close();
    await waitFor('ann leaves', () => presenceOf(watcher).includes('leave:ann'), 10_000);
    expect(presenceOf(watcher).filter((e) => !e.includes('probe'))).toEqual(['join:ann', 'leave:ann']);
    // Ids like any event: a subscriber resuming from before the join gets it back from the replay buffer.
    const joinId = watcher.events.find((e) => e.type === 'hub.open')!.id;
    using late = new Subscriber(hub.url, ['room.1'], { types: PRESENCE_TYPES, lastEventId: joinId });
    await waitFor('the replayed leave', () => presenceOf(late).includes('leave:ann'));
    expect(presenceOf(late).filter((e) => !e.includes('probe'))).toEqual(['join:ann', 'leave:ann']);
  });
});
