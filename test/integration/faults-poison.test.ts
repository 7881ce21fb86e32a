/**
 * Poison from the bus: messages published straight to NATS never passed POST /publish's checks. Sent
 * over a raw socket (a client library would refuse to send some of them), each is dropped or made
 * safe by the rule docs/nats.md states, counted under its reason, and the stream it would have gone
 * to stays whole: the same real client, on the same connection, gets the good event sent after each,
 * and a resume (from the replay buffer, and on JetStream from the stream itself) gets the same.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type Msg, type JsMsg } from 'nats';
import { headerBlockBytes } from '../../src/bus/nats-message.js';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { rawNatsPublish, type RawNatsMessage } from '../helpers/raw-nats.js';
import { Subscriber, type Received } from '../helpers/sse-client.js';

const MAX_EVENT_BYTES = 1024;
const MAX_HEADER_BYTES = 2048;

/** Header lines, `last` at the end, making a block (NATS/1.0 line and final CRLF included) of exactly `bytes`. */
function headerLinesOfBytes(bytes: number, last: string): string[] {
  const fixed = 'NATS/1.0\r\n'.length + `${last}\r\n`.length + 2;
  const fillerLine = (n: number) => `X-Filler: ${'v'.repeat(n)}`;
  return [fillerLine(bytes - fixed - 'X-Filler: \r\n'.length), last];
}

interface PoisonCase {
  readonly name: string;
  readonly message: Omit<RawNatsMessage, 'subject'>;
  /** Dropped under this reason, or delivered (made safe, or untouched) as this event. */
  readonly outcome: { readonly dropped: string } | { readonly delivered: Pick<Received, 'type' | 'data'>; readonly repaired?: string };
}

const CASES: readonly PoisonCase[] = [
  { name: 'a payload one byte over HUB_MAX_EVENT_BYTES', message: { payload: 'x'.repeat(MAX_EVENT_BYTES + 1) }, outcome: { dropped: 'too-large' } },
  { name: 'a payload of exactly HUB_MAX_EVENT_BYTES', message: { payload: 'y'.repeat(MAX_EVENT_BYTES) }, outcome: { delivered: { type: 'message', data: 'y'.repeat(MAX_EVENT_BYTES) } } },
  {
    name: 'bytes that are not UTF-8, a sequence cut just before a line break',
    message: { payload: new Uint8Array([0x61, 0xc3, 0x0a, 0x62, 0xff]) },
    outcome: { delivered: { type: 'message', data: 'a\uFFFD\nb\uFFFD' }, repaired: 'not-utf8' },
  },
  {
    name: 'a multi-byte sequence cut at the very end of the payload (before the frame\'s own line breaks)',
    message: { payload: new Uint8Array([0x7a, 0xe2, 0x82]) },
    outcome: { delivered: { type: 'message', data: 'z\uFFFD' }, repaired: 'not-utf8' },
  },
  // The NATS client cannot parse these headers at all (and would end its connection if let throw).
  { name: 'an Sse-Event with a lone CR', message: { payload: 'p1', headerLines: ['Sse-Event: a\rdata: injected'] }, outcome: { dropped: 'unreadable-headers' } },
  { name: 'an Sse-Event with a lone LF', message: { payload: 'p2', headerLines: ['Sse-Event: b\nid: 1-999999'] }, outcome: { dropped: 'unreadable-headers' } },
  { name: 'an empty payload with unreadable headers', message: { payload: '', headerLines: ['X-Other: a\rb'] }, outcome: { dropped: 'unreadable-headers' } },
  { name: 'an Sse-Event with a space inside', message: { payload: 'p6', headerLines: ['Sse-Event: a b'] }, outcome: { dropped: 'bad-event-type' } },
  { name: 'an Sse-Event with a NUL', message: { payload: 'p7', headerLines: ['Sse-Event: a\u0000b'] }, outcome: { dropped: 'bad-event-type' } },
  { name: 'a reserved Sse-Event (hub.reset)', message: { payload: '{"reason":"forged"}', headerLines: ['Sse-Event: hub.reset'] }, outcome: { dropped: 'bad-event-type' } },
  { name: 'two Sse-Event values', message: { payload: 'p3', headerLines: ['Sse-Event: a', 'Sse-Event: b'] }, outcome: { dropped: 'several-event-types' } },
  {
    name: '2000 headers (35 KB; JetStream itself refuses a header block over 64 KiB)',
    message: { payload: 'p4', headerLines: Array.from({ length: 2000 }, (_, i) => `X-Filler-${i}: v`) },
    outcome: { dropped: 'headers-too-large' },
  },
  {
    name: `a header block of exactly HUB_BUS_MAX_HEADER_BYTES (${MAX_HEADER_BYTES})`,
    message: { payload: 'p5', headerLines: headerLinesOfBytes(MAX_HEADER_BYTES, 'Sse-Event: custom') },
    outcome: { delivered: { type: 'custom', data: 'p5' } },
  },
  {
    name: 'a header block one byte over HUB_BUS_MAX_HEADER_BYTES',
    message: { payload: 'p8', headerLines: headerLinesOfBytes(MAX_HEADER_BYTES + 1, 'Sse-Event: custom') },
    outcome: { dropped: 'headers-too-large' },
  },
];

/** What a client must receive: each delivered poison as stated, and after every case its good event. */
const EXPECTED: Pick<Received, 'type' | 'data'>[] = CASES.flatMap((c, i) => [...('delivered' in c.outcome ? [c.outcome.delivered] : []), { type: 'message', data: `good-${i}` }]);
const counted = (key: 'dropped' | 'repaired') => {
  const counts: Record<string, number> = {};
  for (const c of CASES) {
    const reason = (c.outcome as Record<string, unknown>)[key];
    if (typeof reason === 'string') counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
};

const received = (sub: Subscriber) => sub.events.filter((e) => e.type !== 'hub.open').map(({ type, data }) => ({ type, data }));

async function expectCounts(hubUrl: string): Promise<void> {
  const text = await scrapeMetrics(hubUrl);
  const read = (name: string, counts: Record<string, number>) => Object.fromEntries(Object.keys(counts).map((reason) => [reason, metricValue(text, name, { reason })]));
  expect(read('ssehub_bus_events_rejected_total', counted('dropped'))).toEqual(counted('dropped'));
  expect(read('ssehub_bus_events_repaired_total', counted('repaired'))).toEqual(counted('repaired'));
}

const kinds = busKinds().filter((k) => k.name !== 'memory');
afterAll(async () => {
  for (const kind of kinds) await kind.dispose();
});

describe.each(kinds)('poison from the bus [faults] [$name]', (kind) => {
  it(`drops or repairs each poison message by its rule, counts it, and keeps the stream whole [faults] [${kind.name}]`, async () => {
    const env: Record<string, string> = { ...(await kind.env()), HUB_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES), HUB_BUS_MAX_HEADER_BYTES: String(MAX_HEADER_BYTES), HUB_RETRY_MS: '50' };
    const subject = `${env.HUB_SUBJECT_PREFIX ?? 'sse'}.poison`;
    await using hub = await startTestHub(env);
    using live = new Subscriber(hub.url, ['poison'], { types: ['custom'] });
    await live.open();
    const start = live.events[0]!.id;

    // One connection, in order: each poison message, then the good event that must follow it.
    await rawNatsPublish(
      kind.nats().port,
      CASES.flatMap((c, i) => [{ subject, ...c.message }, { subject, payload: `good-${i}` }]),
    );
    await live.waitForMessages(EXPECTED.length);
    expect(received(live)).toEqual(EXPECTED);
    // The same connection throughout: no frame broke the stream, nothing forged a reset.
    expect({ opens: live.opens, errors: live.errors, resets: live.resets }).toEqual({ opens: 1, errors: 0, resets: [] });
    await expectCounts(hub.url);

    // A resume from before the poison, served by the replay buffer: the same events, nothing else.
    using resumed = new Subscriber(hub.url, ['poison'], { types: ['custom'], lastEventId: start });
    await resumed.waitForMessages(EXPECTED.length);
    expect(received(resumed)).toEqual(EXPECTED);

    if (kind.name === 'jetstream') {
      // A hub that joins afterwards has none of it in memory: the resume reads the stream back.
      await using late = await startTestHub(env);
      using fromStream = new Subscriber(late.url, ['poison'], { types: ['custom'], lastEventId: start });
      await fromStream.waitForMessages(EXPECTED.length);
      expect(received(fromStream)).toEqual(EXPECTED);
      await expectCounts(late.url);
    }
  });
});

describe.each(kinds)('the size of a header block, read without parsing it [faults] [$name]', (kind) => {
  it(`is what the NATS client received, on a real ${kind.name} message`, async () => {
    const env: Record<string, string> = await kind.env();
    const prefix = env.HUB_SUBJECT_PREFIX ?? 'sse';
    // The hub makes the stream (JetStream): start one, so the message below is stored.
    await using hub = await startTestHub(env);
    const nc = await connect({ servers: kind.nats().url });
    try {
      const lines = headerLinesOfBytes(300, 'Sse-Event: sized');
      let got: Msg | JsMsg;
      if (kind.name === 'nats') {
        const sub = nc.subscribe(`${prefix}.sized`, { max: 1 });
        await nc.flush();
        await rawNatsPublish(kind.nats().port, [{ subject: `${prefix}.sized`, payload: 'x', headerLines: lines }, { subject: `${prefix}.sized`, payload: 'none' }]);
        const messages: Msg[] = [];
        for await (const m of sub) messages.push(m);
        got = messages[0]!;
      } else {
        await rawNatsPublish(kind.nats().port, [{ subject: `${prefix}.sized`, payload: 'x', headerLines: lines }]);
        const consumer = await nc.jetstream().consumers.get(env.HUB_JETSTREAM_STREAM!, { filterSubjects: `${prefix}.sized` });
        got = (await consumer.next({ expires: 5000 }))!;
      }
      expect(headerBlockBytes(got)).toBe(300);
      expect(headerBlockBytes({ subject: 'x', data: new Uint8Array(), headers: undefined })).toBeUndefined();
      expect(got.headers?.get('Sse-Event')).toBe('sized');
      void hub;
    } finally {
      await nc.close();
    }
  });
});
