/**
 * The bus contract, one suite for every implementation: the embedded bus, core NATS and JetStream,
 * the NATS ones against a real nats-server. Whatever the hub relies on is checked here, wildcards
 * included. Where the buses legitimately differ (what another node makes of a seq, whether publish
 * knows it, history, outages), each kind states what it does and the suite checks exactly that.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage, BusStatus } from '../../src/bus/bus.js';
import { JetStreamBus } from '../../src/bus/jetstream.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { NatsBus } from '../../src/bus/nats.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { busKinds, type BusKind } from '../helpers/bus-kinds.js';
import { freePort } from '../helpers/net.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const log = createLogger('silent');
// The hub's defaults: the outages here close connections, which no PING setting changes.
const { natsPingIntervalMs: pingIntervalMs, natsMaxPingsOut: maxPingsOut } = loadConfig({});

interface ContractKind {
  readonly name: BusKind['name'];
  /** A new bus, connected; `servers` sends a NATS bus elsewhere (through a proxy). */
  make(servers?: readonly string[]): Promise<Bus>;
  /**
   * What a second bus (another node) makes of a message published on the first: `isolated`, it never
   * sees it (one process); `own-ids`, it receives it numbered in its own epoch; `shared-ids`, it
   * receives it with the same epoch and seq.
   */
  readonly otherNode: 'isolated' | 'own-ids' | 'shared-ids';
  /** Whether publish() answers with the seq the message is delivered with (core NATS numbers on receipt). */
  readonly publishKnowsSeq: boolean;
  /** Whether the bus reads its past back (history()). */
  readonly keepsHistory: boolean;
  /**
   * What becomes of messages published while the bus is cut off from NATS: `redelivered` after the
   * reconnect, in order and with consecutive seqs; `lost`, and the reconnect says so, with a seq
   * spent on the gap. `none`: the embedded bus has no link to lose.
   */
  readonly outage: 'none' | 'redelivered' | 'lost';
}

const launchers = busKinds();
const launcher = (name: BusKind['name']) => launchers.find((k) => k.name === name)!;

async function connected<B extends Bus>(bus: B): Promise<B> {
  await waitFor(`the ${bus.kind} bus to connect`, () => bus.isConnected(), 10_000);
  return bus;
}

const kinds: ContractKind[] = [
  { name: 'memory', make: async () => new MemoryBus(), otherNode: 'isolated', publishKnowsSeq: true, keepsHistory: false, outage: 'none' },
  {
    name: 'nats',
    async make(servers) {
      const { NATS_URL } = await launcher('nats').env();
      return connected(new NatsBus({ servers: servers ?? [NATS_URL!], pingIntervalMs, maxPingsOut, log }));
    },
    otherNode: 'own-ids',
    publishKnowsSeq: false,
    keepsHistory: false,
    outage: 'lost',
  },
  {
    name: 'jetstream',
    async make(servers) {
      // The suite's subjects are under `sse.`, and streams may not overlap: every JetStream bus here
      // reads one stream over `sse.>`, as the replicas of one deployment do.
      const config = loadConfig({ ...(await launcher('jetstream').env()), HUB_SUBJECT_PREFIX: 'sse', HUB_JETSTREAM_STREAM: 'CONTRACT' });
      return connected(new JetStreamBus({ servers: servers ?? config.natsServers, pingIntervalMs, maxPingsOut, settings: config.jetstream!, log }));
    },
    otherNode: 'shared-ids',
    publishKnowsSeq: true,
    keepsHistory: true,
    outage: 'redelivered',
  },
];

afterAll(async () => {
  for (const l of launchers) await l.dispose();
});

const text = (m: BusMessage) => new TextDecoder().decode(m.data);
const bytes = (s: string) => new TextEncoder().encode(s);

for (const kind of kinds) {
  const { name, make } = kind;
  describe(`bus contract [${name}]`, () => {
    it('delivers to matching subscriptions with subject, data and event type', async () => {
      const bus = await make();
      try {
        const got: BusMessage[] = [];
        await bus.subscribe('sse.a.*', (m) => got.push(m));
        await bus.publish('sse.a.1', bytes('one'), { eventType: 'created' });
        await bus.publish('sse.b.1', bytes('elsewhere'));
        await bus.publish('sse.a.2', bytes('two'));
        // A later marker on the pattern: once it is in, nothing published before it is on its way.
        await bus.publish('sse.a.marker', bytes('marker'));
        await waitFor('the marker', () => got.some((m) => text(m) === 'marker'));
        expect(got.slice(0, -1).map((m) => [m.subject, text(m), m.eventType])).toEqual([
          ['sse.a.1', 'one', 'created'],
          ['sse.a.2', 'two', undefined],
        ]);
      } finally {
        await bus.close();
      }
    });

    it('numbers messages in strictly increasing order, after the `since` of the subscription', async () => {
      const bus = await make();
      try {
        const got: BusMessage[] = [];
        const { since } = await bus.subscribe('sse.>', (m) => got.push(m));
        for (let i = 0; i < 50; i++) await bus.publish(`sse.t.${i % 3}`, bytes(String(i)));
        await waitFor('50 messages', () => got.length >= 50);
        const seqs = got.map((m) => m.seq);
        expect(seqs[0]).toBeGreaterThan(since);
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
        expect(bus.head()).toBeGreaterThanOrEqual(seqs.at(-1)!);
        expect(got.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
      } finally {
        await bus.close();
      }
    });

    it('delivers a message once to each overlapping subscription, as NATS does', async () => {
      const bus = await make();
      try {
        const star: string[] = [];
        const tail: string[] = [];
        const exact: string[] = [];
        await bus.subscribe('sse.o.*', (m) => star.push(text(m)));
        await bus.subscribe('sse.o.>', (m) => tail.push(text(m)));
        await bus.subscribe('sse.o.1', (m) => exact.push(text(m)));
        await bus.publish('sse.o.1', bytes('x'));
        await bus.publish('sse.o.1.2', bytes('y'));
        await waitFor('deliveries', () => star.length + tail.length + exact.length >= 4);
        // sse.o.1 again, as a marker all three subscriptions get: nothing else can follow it.
        await bus.publish('sse.o.1', bytes('marker'));
        await waitFor('the marker on all three', () => [star, tail, exact].every((got) => got.at(-1) === 'marker'));
        expect({ star, tail, exact }).toEqual({ star: ['x', 'marker'], tail: ['x', 'y', 'marker'], exact: ['x', 'marker'] });
      } finally {
        await bus.close();
      }
    });

    it('stops delivering after unsubscribe', async () => {
      const bus = await make();
      try {
        const got: string[] = [];
        const { subscription } = await bus.subscribe('sse.u', (m) => got.push(text(m)));
        await bus.publish('sse.u', bytes('1'));
        await waitFor('first', () => got.length === 1);
        subscription.unsubscribe();
        // A second subscription on the subject sees '2' and then a marker: by the marker, the
        // first would have had '2' too had it still been subscribed.
        const after: string[] = [];
        await bus.subscribe('sse.u', (m) => after.push(text(m)));
        await bus.publish('sse.u', bytes('2'));
        await bus.publish('sse.u', bytes('marker'));
        await waitFor('the marker on the second subscription', () => after.includes('marker'));
        expect(after).toEqual(['2', 'marker']);
        expect(got).toEqual(['1']);
      } finally {
        await bus.close();
      }
    });

    it('reports itself connected, and closes', async () => {
      const bus = await make();
      expect(bus.isConnected()).toBe(true);
      await bus.close();
      expect(bus.isConnected()).toBe(false);
    });

    it(kind.publishKnowsSeq ? 'answers a publish with the seq the message is delivered with' : 'answers a publish without a seq: the message is numbered where it is received', async () => {
      const bus = await make();
      try {
        const got: BusMessage[] = [];
        await bus.subscribe('sse.p', (m) => got.push(m));
        const answers = [await bus.publish('sse.p', bytes('one')), await bus.publish('sse.p', bytes('two'))];
        await waitFor('both messages', () => got.length >= 2);
        expect(answers.map((a) => a.seq)).toEqual(kind.publishKnowsSeq ? got.map((m) => m.seq) : [undefined, undefined]);
      } finally {
        await bus.close();
      }
    });

    const otherNode = {
      isolated: 'is alone in its process: another bus never sees its messages, and has its own epoch',
      'own-ids': 'shares messages with another node, which numbers them in its own epoch',
      'shared-ids': 'shares messages with another node, which gives each the same epoch and seq',
    } as const;
    it(otherNode[kind.otherNode], async () => {
      const a = await make();
      const b = await make();
      try {
        const onA: BusMessage[] = [];
        const onB: BusMessage[] = [];
        await a.subscribe('sse.n.*', (m) => onA.push(m));
        await b.subscribe('sse.n.*', (m) => onB.push(m));
        await a.publish('sse.n.1', bytes('x'));
        await waitFor('the first node to receive it', () => onA.length === 1);
        if (kind.otherNode === 'isolated') {
          // b's own marker reaches b; a's message, published before it, never did.
          await b.publish('sse.n.marker', bytes('marker'));
          await waitFor('b to receive its own marker', () => onB.length >= 1);
          expect(onB.map(text)).toEqual(['marker']);
        } else {
          await waitFor('the other node to receive it', () => onB.length === 1);
          expect(text(onB[0]!)).toBe('x');
        }
        if (kind.otherNode === 'shared-ids') expect([b.epoch, onB[0]!.seq]).toEqual([a.epoch, onA[0]!.seq]);
        else expect(b.epoch).not.toBe(a.epoch);
      } finally {
        await a.close();
        await b.close();
      }
    });

    if (kind.keepsHistory) {
      it('reads back its past: seq in (after, upTo] on any of the patterns, each once, oldest first, within a limit', async () => {
        const bus = await make();
        try {
          const got: BusMessage[] = [];
          const { since } = await bus.subscribe('sse.>', (m) => got.push(m));
          await bus.publish('sse.h.a', bytes('1'));
          await bus.publish('sse.x', bytes('2'));
          await bus.publish('sse.h.b.c', bytes('3'), { eventType: 'created' });
          await bus.publish('sse.h.a', bytes('4'));
          await waitFor('four messages', () => got.length >= 4);
          const [s1, , s3, s4] = got.map((m) => m.seq) as [number, number, number, number];
          const read = async (after: number, upTo: number, patterns: string[], limit: number) => {
            const result = await bus.history!(after, upTo, patterns, limit);
            return result.complete ? result.messages.map((m) => [m.subject, text(m), m.eventType, m.seq]) : result.reason;
          };
          expect(await read(since, s3, ['sse.h.*', 'sse.h.>'], 10)).toEqual([
            ['sse.h.a', '1', undefined, s1],
            ['sse.h.b.c', '3', 'created', s3],
          ]);
          expect(await read(s1, s4, ['sse.h.a'], 10)).toEqual([['sse.h.a', '4', undefined, s4]]);
          expect(await read(since, s4, ['sse.>'], 3)).toBe('too-far-behind');
        } finally {
          await bus.close();
        }
      });
    } else {
      it('keeps no history: what the replay buffer cannot serve is a reset', async () => {
        const bus = await make();
        try {
          expect(bus.history).toBeUndefined();
        } finally {
          await bus.close();
        }
      });
    }

    if (kind.outage === 'none') {
      it('has no link to lose: connected until closed, with no status to report', async () => {
        const bus = await make();
        const statuses: BusStatus[] = [];
        bus.onStatus((s) => statuses.push(s));
        await bus.publish('sse.g', bytes('x'));
        expect(bus.isConnected()).toBe(true);
        await bus.close();
        expect(statuses).toEqual([]);
      });
    } else {
      const what = kind.outage === 'redelivered' ? 'delivers what was published meanwhile, in order' : 'reports that messages were lost, and numbers past the gap';
      it(`after being cut off from NATS, ${what}`, async () => {
        const server = launcher(name).nats();
        const nowhere = await freePort();
        const proxy = new TcpProxy(server.port);
        await proxy.start();
        const bus = await make([`nats://127.0.0.1:${proxy.port}`]);
        const publisher = await make();
        try {
          const statuses: BusStatus[] = [];
          bus.onStatus((s) => statuses.push(s));
          const got: BusMessage[] = [];
          await bus.subscribe('sse.g', (m) => got.push(m));
          await publisher.publish('sse.g', bytes('before'));
          await waitFor('the message before the outage', () => got.length === 1);

          // New connections lead nowhere until the link is back, so the bus cannot reconnect early.
          proxy.setTargets([nowhere]);
          proxy.cut();
          await waitFor('the bus to notice the outage', () => !bus.isConnected());
          await publisher.publish('sse.g', bytes('during'));
          proxy.setTargets([server.port]);
          await waitFor('the bus to reconnect', () => bus.isConnected(), 10_000);
          await publisher.publish('sse.g', bytes('after'));
          await waitFor('the message after the outage', () => got.some((m) => text(m) === 'after'), 10_000);
          // A marker after it: a late copy of an earlier message would have come before it.
          await publisher.publish('sse.g', bytes('marker'));
          await waitFor('the marker after the outage', () => got.some((m) => text(m) === 'marker'), 10_000);
          expect(text(got.pop()!)).toBe('marker');

          const [first] = got.map((m) => m.seq) as [number];
          const disconnected = { type: 'disconnected', reason: expect.any(String) };
          if (kind.outage === 'redelivered') {
            expect(got.map((m) => [text(m), m.seq])).toEqual([
              ['before', first],
              ['during', first + 1],
              ['after', first + 2],
            ]);
            expect(statuses).toEqual([disconnected, { type: 'connected', lostMessages: false }]);
          } else {
            expect(got.map(text)).toEqual(['before', 'after']);
            // The outage lies between two numbers: a client positioned before it is not covered after it.
            expect(got[1]!.seq).toBeGreaterThan(first + 1);
            expect(statuses).toEqual([disconnected, { type: 'connected', lostMessages: true }]);
          }
        } finally {
          await bus.close();
          await publisher.close();
          await proxy.close();
        }
      });
    }
  });
}
