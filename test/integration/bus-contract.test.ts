/**
 * The bus contract, one suite for both implementations: the embedded bus and core NATS against a
 * real nats-server. Whatever the hub relies on is checked here, wildcards included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../../src/bus/bus.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { NatsBus } from '../../src/bus/nats.js';
import { createLogger } from '../../src/log.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

const log = createLogger('silent');
let server: NatsServer | undefined;

const makers: Array<[name: string, make: () => Promise<Bus>]> = [
  ['memory', async () => new MemoryBus()],
  [
    'nats',
    async () => {
      server ??= await startNatsServer();
      const bus = new NatsBus({ servers: [server.url], log });
      await waitFor('NATS to connect', () => bus.isConnected());
      return bus;
    },
  ],
];

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
});

const text = (m: BusMessage) => new TextDecoder().decode(m.data);
const bytes = (s: string) => new TextEncoder().encode(s);

for (const [name, make] of makers) {
  describe(`bus contract [${name}]`, () => {
    it('delivers to matching subscriptions with subject, data and event type', async () => {
      const bus = await make();
      try {
        const got: BusMessage[] = [];
        await bus.subscribe('sse.a.*', (m) => got.push(m));
        await bus.publish('sse.a.1', bytes('one'), { eventType: 'created' });
        await bus.publish('sse.b.1', bytes('elsewhere'));
        await bus.publish('sse.a.2', bytes('two'));
        await waitFor('two messages', () => got.length >= 2);
        await sleep(50);
        expect(got.map((m) => [m.subject, text(m), m.eventType])).toEqual([
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
        await sleep(50);
        expect({ star, tail, exact }).toEqual({ star: ['x'], tail: ['x', 'y'], exact: ['x'] });
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
        await bus.publish('sse.u', bytes('2'));
        await sleep(100);
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
  });
}
