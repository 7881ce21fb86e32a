/**
 * The client library's fetch reader (used with a token, and by shared connections) in Node against a
 * real hub: the token as an Authorization header on a hub with auth on, a refusal read from the
 * answer itself, `rewind`, and topics changed on an open subscription through the hub's
 * live-subscriptions API, on the same stream.
 */
import { describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { subscribe, type HubRefusal, type HubReset } from '../../client/ssehub.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { captureLog } from '../helpers/log-capture.js';
import { recordRequests } from '../helpers/request-log.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

describe('client library, fetch reader [memory]', () => {
  it('sends the token as Authorization: Bearer on a hub with auth on; the URL and the hub log never carry it; a 401 is read from the answer', async () => {
    const captured = captureLog('debug');
    await using hub = await startTestHub({ HUB_RETRY_MS: '100', HUB_AUTH_HS256_SECRET: HS256_SECRET, LOG_LEVEL: 'debug' }, { log: captured.log });
    const requests = recordRequests(hub);
    const good = await mint({ subscribe: ['secure.>'] }, { expiresIn: 600 });
    const tokens = ['not-a-jwt', good];
    const publisher = await mint({ publish: ['secure.>'] }, { expiresIn: 600 });
    const refusals: HubRefusal[] = [];
    const got: string[] = [];
    const sub = subscribe({ url: hub.url, topics: ['secure.1'], token: () => tokens.shift() ?? good, reconnectDelayMs: 20, onRefused: (r) => refusals.push(r) });
    try {
      sub.on('message', (data) => got.push(String(data)));
      await waitFor('the subscription to open', () => sub.state === 'open', 5000);
      const res = await fetch(`${hub.url}/publish?topic=secure.1`, { method: 'POST', body: 'one', headers: { Authorization: `Bearer ${publisher}` }, signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      await waitFor('the event', () => got.length === 1, 5000);
      expect(refusals).toEqual([{ status: 401, code: 'token_invalid', message: expect.any(String) as string }]);
      expect(requests.filter((u) => u.startsWith('/events'))).toEqual(['/events?topic=secure.1', '/events?topic=secure.1']);
      for (const line of captured.lines) expect(line).not.toContain(good);
      expect(captured.lines.join('\n')).toContain('stream opened');
    } finally {
      sub.close();
    }
  });

  it('rewind: N gives the newest N retained events, then live ones', async () => {
    await using hub = await startTestHub();
    using keeper = new Subscriber(hub.url, ['feed']);
    await keeper.open();
    for (let i = 1; i <= 5; i++) await publish(hub.url, 'feed', String(i));
    await keeper.waitForMessages(5);
    const got: string[] = [];
    const resets: HubReset[] = [];
    const sub = subscribe({ EventSource, url: hub.url, topics: ['feed'], rewind: 2, onReset: (r) => resets.push(r) });
    try {
      sub.on('message', (data) => got.push(String(data)));
      await waitFor('open', () => sub.state === 'open', 5000);
      await publish(hub.url, 'feed', 'live');
      await waitFor('the live event', () => got.includes('live'), 5000);
      expect(got).toEqual(['4', '5', 'live']);
      expect(resets).toEqual([]);
    } finally {
      sub.close();
    }
  });

  for (const reader of ['EventSource', 'fetch'] as const) {
    it(`subscribe() and unsubscribe() change the topics of the open stream (${reader} reader, POST /streams/<id>/topics): one stream, exact, in order`, async () => {
      await using hub = await startTestHub({ HUB_RETRY_MS: '100' });
      const requests = recordRequests(hub);
      const got: string[] = [];
      const resets: HubReset[] = [];
      const sub = subscribe({ url: hub.url, topics: ['a'], onReset: (r) => resets.push(r), ...(reader === 'fetch' ? { token: () => 'unused' } : { EventSource }) });
      try {
        sub.on('message', (data) => got.push(String(data)));
        await waitFor('open', () => sub.state === 'open', 5000);
        await publish(hub.url, 'a', 'a1');
        await publish(hub.url, 'b', 'b1');
        await waitFor('a1', () => got.length === 1, 5000);
        const beforeAdd = sub.lastEventId;
        sub.subscribe('b');
        expect(sub.topics).toEqual(['a', 'b']);
        // The change takes effect at the position its hub.topics event names (b1 came before it): the
        // subscription's position moves to it.
        await waitFor('the hub.topics of the change', () => sub.lastEventId !== beforeAdd, 5000);
        await publish(hub.url, 'b', 'b2');
        await publish(hub.url, 'a', 'a2');
        await waitFor(`b2 and a2 (have ${got.join()})`, () => got.length === 3, 5000);
        // An event no one reads moves the bus head past a2, so the removal's position differs from
        // the subscription's: its hub.topics is then seen as the position moving.
        await publish(hub.url, 'elsewhere', 'x');
        const beforeRemove = sub.lastEventId;
        sub.unsubscribe('a');
        expect(sub.topics).toEqual(['b']);
        await waitFor('the hub.topics of the removal', () => sub.lastEventId !== beforeRemove, 5000);
        await publish(hub.url, 'a', 'a3');
        await publish(hub.url, 'b', 'b3');
        await waitFor('b3', () => got.includes('b3'), 5000);
        expect(got).toEqual(['a1', 'b2', 'a2', 'b3']);
        expect(resets).toEqual([]);
        // One stream throughout: the topics changed on it, with no reconnect.
        expect(requests.filter((u) => u.startsWith('/events?'))).toEqual(['/events?topic=a']);
        expect(() => sub.unsubscribe('b')).toThrow('at least one topic');
      } finally {
        sub.close();
      }
    });
  }
});
