/**
 * The per-stream options of GET /events: `fields=topic` (a `topic:` line in every event frame, live
 * and replayed) and `rewind=N` (the newest N retained events, then live), on every bus. The stream
 * is read raw, so the test sees the field lines a browser's EventSource would ignore.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { RawStream } from '../helpers/raw-stream.js';
import { Subscriber } from '../helpers/sse-client.js';

interface WireEvent {
  readonly fields: Readonly<Record<string, string>>;
}

/** The whole frames of a raw stream, each as its field lines (no comments, no retry-only frames). */
function frames(text: string): WireEvent[] {
  const out: WireEvent[] = [];
  for (const block of text.split('\n\n').slice(0, -1)) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      fields[line.slice(0, colon)] = line.slice(colon + 2);
    }
    if (fields.data !== undefined) out.push({ fields });
  }
  return out;
}

const events = (stream: RawStream) => frames(stream.text).filter((f) => !f.fields.event?.startsWith('hub.'));

for (const kind of busKinds()) {
  describe(`stream options [${kind.name}]`, () => {
    afterAll(() => kind.dispose());

    it('fields=topic puts a topic: line in every live and replayed event frame, and only on streams that asked', async () => {
      await using hub = await startTestHub(await kind.env());
      const tagged = new RawStream(`${hub.url}/events?topic=orders.*&fields=topic`);
      const plain = new RawStream(`${hub.url}/events?topic=orders.*`);
      try {
        await tagged.waitForText('event: hub.open');
        await plain.waitForText('event: hub.open');
        await publish(hub.url, 'orders.1', 'one');
        await publish(hub.url, 'orders.2', 'two', 'order.updated');
        await tagged.waitForText('data: two');
        await plain.waitForText('data: two');
        expect(events(tagged).map((f) => [f.fields.topic, f.fields.data])).toEqual([['orders.1', 'one'], ['orders.2', 'two']]);
        expect(events(tagged)[1]!.fields.event).toBe('order.updated');
        expect(events(plain).map((f) => f.fields.topic)).toEqual([undefined, undefined]);

        // A resume from the first event replays the second with its topic line.
        const firstId = events(tagged)[0]!.fields.id!;
        const resumed = new RawStream(`${hub.url}/events?topic=orders.*&fields=topic&lastEventId=${firstId}`);
        try {
          await resumed.waitForText('event: hub.open');
          expect(events(resumed).map((f) => [f.fields.topic, f.fields.data])).toEqual([['orders.2', 'two']]);
        } finally {
          resumed.close();
        }
      } finally {
        tagged.close();
        plain.close();
      }
    });

    it('rewind=N starts with the newest N retained events on the stream topics, then live; fewer without a reset', async () => {
      await using hub = await startTestHub(await kind.env());
      // A subscriber holds the topics, so every bus's node receives (and its buffer keeps) the events.
      const keeper = new Subscriber(hub.url, ['news.>']);
      try {
        await keeper.open();
        for (let i = 0; i < 5; i++) await publish(hub.url, i % 2 ? 'news.odd' : 'news.even', String(i));
        await publish(hub.url, 'news.other', 'x');
        await keeper.waitForMessages(6);

        const three = new RawStream(`${hub.url}/events?topic=news.even&topic=news.odd&rewind=3`);
        const all = new RawStream(`${hub.url}/events?topic=news.even&rewind=50&fields=topic`);
        try {
          await three.waitForText('event: hub.open');
          await all.waitForText('event: hub.open');
          await publish(hub.url, 'news.even', 'live');
          await three.waitForText('data: live');
          await all.waitForText('data: live');
          expect(events(three).map((f) => f.fields.data)).toEqual(['2', '3', '4', 'live']);
          expect(events(all).map((f) => [f.fields.topic, f.fields.data])).toEqual([['news.even', '0'], ['news.even', '2'], ['news.even', '4'], ['news.even', 'live']]);
          expect(three.text).not.toContain('hub.reset');
          expect(all.text).not.toContain('hub.reset');
        } finally {
          three.close();
          all.close();
        }

        // Last-Event-ID wins: the stream resumes after it and rewind is not applied (the keeper's
        // pattern, which this node has covered throughout).
        const secondId = keeper.messages[1]!.id;
        const resumed = new RawStream(`${hub.url}/events?topic=news.>&rewind=1`, { 'Last-Event-ID': secondId });
        try {
          await resumed.waitForText('event: hub.open');
          expect(events(resumed).map((f) => f.fields.data)).toEqual(['2', '3', '4', 'x', 'live']);
        } finally {
          resumed.close();
        }
      } finally {
        keeper.close();
      }
    });

    it(`rewind on topics nobody listened to: ${kind.name === 'jetstream' ? 'read back from the stream' : 'nothing retained, no reset'}`, async () => {
      await using hub = await startTestHub(await kind.env());
      for (let i = 0; i < 6; i++) await publish(hub.url, 'quiet.topic', String(i));
      const stream = new RawStream(`${hub.url}/events?topic=quiet.topic&topic=quiet.none&rewind=4&fields=topic`);
      try {
        await stream.waitForText('event: hub.open');
        const expected = kind.name === 'jetstream' ? ['2', '3', '4', '5'] : [];
        expect(events(stream).map((f) => f.fields.data)).toEqual(expected);
        expect(events(stream).every((f) => f.fields.topic === 'quiet.topic')).toBe(true);
        expect(stream.text).not.toContain('hub.reset');
      } finally {
        stream.close();
      }
    });

    it('refuses a rewind past HUB_REWIND_MAX and an unknown field with 400 and a JSON error', async () => {
      await using hub = await startTestHub({ ...(await kind.env()), HUB_REWIND_MAX: '10' });
      for (const [query, says] of [
        ['rewind=11', 'rewind must be a whole number from 0 to 10'],
        ['rewind=-1', 'rewind must be'],
        ['rewind=abc', 'rewind must be'],
        ['fields=subject', '"subject" is not a field'],
      ] as const) {
        const res = await fetch(`${hub.url}/events?topic=a&${query}`, { signal: AbortSignal.timeout(5000) });
        expect(res.status, query).toBe(400);
        const body = (await res.json()) as { code: string; error: string };
        expect(body.code).toBe('bad_query');
        expect(body.error).toContain(says);
      }
    });
  });
}
