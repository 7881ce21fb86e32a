/**
 * Where a resume position comes from: the `Last-Event-ID` header first, then `?lastEventId`. A page
 * that persisted its id puts it in the query; after a native reconnect the browser also sends the
 * newer id in the header, and the header must win, or the events between the two ids come twice.
 */
import { describe, expect, it } from 'vitest';
import { publish, startTestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';

describe('resume position [memory]', () => {
  it('prefers the Last-Event-ID header over a stale ?lastEventId', async () => {
    await using hub = await startTestHub();
    // Holds the topic's interest, so the events are in the replay buffer when the resume comes.
    using holder = new Subscriber(hub.url, ['orders.1']);
    await holder.open();
    const ids: string[] = [];
    for (const data of ['e1', 'e2', 'e3', 'e4']) ids.push(String((await publish(hub.url, 'orders.1', data)).body.id));
    using sub = new Subscriber(hub.url, ['orders.1'], { lastEventId: ids[0], headers: () => ({ 'Last-Event-ID': ids[2]! }) });
    await sub.open();
    // A later event is the proof that nothing else is still on its way.
    await publish(hub.url, 'orders.1', 'e5');
    await sub.waitForMessages(2);
    expect(sub.messages.map((e) => e.data)).toEqual(['e4', 'e5']);
  });

  it('uses ?lastEventId when no header is sent (a first connect of a page that kept its id)', async () => {
    await using hub = await startTestHub();
    // Holds the topic's interest, so the events are in the replay buffer when the resume comes.
    using holder = new Subscriber(hub.url, ['orders.1']);
    await holder.open();
    const ids: string[] = [];
    for (const data of ['e1', 'e2', 'e3']) ids.push(String((await publish(hub.url, 'orders.1', data)).body.id));
    using sub = new Subscriber(hub.url, ['orders.1'], { lastEventId: ids[0] });
    await sub.open();
    await publish(hub.url, 'orders.1', 'e4');
    await sub.waitForMessages(3);
    expect(sub.messages.map((e) => e.data)).toEqual(['e2', 'e3', 'e4']);
  });
});
