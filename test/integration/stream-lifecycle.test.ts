/**
 * A stream's life on a real hub (embedded bus) beyond open and close: the age limit that ends it
 * (and the exact resume after it), the bound on subscriptions that outlive their streams, and the
 * heartbeat that an active stream does not need, and the cut at shutdown of a stream whose client
 * stopped reading.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { publish, startTestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { RawStream } from '../helpers/raw-stream.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const closedFor = async (hubUrl: string, reason: string): Promise<number> =>
  metricValue(await scrapeMetrics(hubUrl), 'ssehub_connections_closed_total', { reason }) ?? 0;

describe('stream lifecycle [lifecycle] [memory]', () => {
  it('ends a stream at HUB_MAX_CONNECTION_AGE_MS as max-age, and the client resumes exactly from the replay buffer', async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTION_AGE_MS: '300', HUB_RETRY_MS: '100' });
    using sub = new Subscriber(hub.url, ['aged']);
    await sub.open();
    const sent: string[] = [];
    // Each round publishes right after a max-age close, while the client waits out its retry delay:
    // the event can only reach it through the resume.
    for (let round = 1; round <= 3; round++) {
      await waitFor(`max-age close #${round}`, async () => (await closedFor(hub.url, 'max-age')) >= round, 10_000, 20);
      sent.push(`e${round}`);
      expect((await publish(hub.url, 'aged', `e${round}`)).status).toBe(200);
      await sub.waitForMessages(round, 10_000);
    }
    expect(sub.messages.map((m) => m.data)).toEqual(sent);
    expect(sub.resets).toEqual([]);
    expect(sub.opens).toBeGreaterThanOrEqual(4);
    const metrics = await scrapeMetrics(hub.url);
    // Every reconnect after a close resumed from the buffer (the first stream had no id to resume from).
    expect(metricValue(metrics, 'ssehub_replays_served_total')).toBeGreaterThanOrEqual(3);
    expect(metricValue(metrics, 'ssehub_resets_sent_total', { reason: 'history-gone' })).toBeUndefined();
    expect(metricValue(metrics, 'ssehub_connections_closed_total', { reason: 'slow-consumer' })).toBeUndefined();
  });

  it('keeps at most HUB_MAX_LINGERING_SUBSCRIPTIONS idle subscriptions, dropping the oldest', async () => {
    await using hub = await startTestHub({ HUB_MAX_LINGERING_SUBSCRIPTIONS: '2', HUB_INTEREST_LINGER_MS: '600000' });
    const subscriptions = async (): Promise<number | undefined> => metricValue(await scrapeMetrics(hub.url), 'ssehub_bus_subscriptions');
    for (const [i, topic] of ['t1', 't2', 't3', 't4', 't5'].entries()) {
      const stream = new RawStream(`${hub.url}/events?topic=${topic}`);
      await stream.waitForText('event: hub.open');
      stream.close();
      await waitFor(`the stream on ${topic} to close`, () => hub.hub.connectionCount === 0);
      // Without the bound every one of them would linger for the ten minutes.
      expect(await subscriptions()).toBe(Math.min(i + 1, 2));
    }
    // The newest two are the ones kept: reopening t5 finds its subscription, reopening t1 makes one.
    const t5 = new RawStream(`${hub.url}/events?topic=t5`);
    await t5.waitForText('event: hub.open');
    expect(await subscriptions()).toBe(2);
    const t1 = new RawStream(`${hub.url}/events?topic=t1`);
    await t1.waitForText('event: hub.open');
    expect(await subscriptions()).toBe(3);
    t5.close();
    t1.close();
  });

  it('sends no heartbeat to a stream that got an event in every interval, while an idle stream gets them', async () => {
    await using hub = await startTestHub({ HUB_HEARTBEAT_MS: '300' });
    const busy = new RawStream(`${hub.url}/events?topic=busy`);
    const idle = new RawStream(`${hub.url}/events?topic=idle`);
    try {
      await busy.waitForText('event: hub.open');
      await idle.waitForText('event: hub.open');
      const heartbeats = (text: string): number => text.split('\n').filter((line) => line === ':').length;
      // Events flow one after another (each published once the previous one arrived) until the idle
      // stream has had three heartbeats: that is at least two whole intervals with events flowing.
      let n = 0;
      await publish(hub.url, 'busy', `e${++n}`);
      await busy.waitForText(`data: e${n}\n`);
      const busyFrom = busy.text.length;
      const idleFrom = idle.text.length;
      while (heartbeats(idle.text.slice(idleFrom)) < 3) {
        await publish(hub.url, 'busy', `e${++n}`);
        await busy.waitForText(`data: e${n}\n`);
      }
      expect(heartbeats(busy.text.slice(busyFrom))).toBe(0);
      expect(n).toBeGreaterThan(3);
    } finally {
      busy.close();
      idle.close();
    }
  });

  it('cuts a stream whose client stopped reading when shutdown ends, instead of waiting on it', async () => {
    const hub = await startTestHub({ HUB_SHUTDOWN_TIMEOUT_MS: '1000', HUB_MAX_EVENT_BYTES: String(1024 * 1024), HUB_MAX_BUFFERED_BYTES: String(1024 * 1024 * 1024) });
    // A client that reads the head and then stops reading: the hub's socket fills and stays full.
    const socket = connect(hub.port, '127.0.0.1');
    let received = 0;
    let head = '';
    let reading = false;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (reading) return;
      head += chunk.toString('latin1');
      if (head.includes('event: hub.open')) socket.pause();
    });
    socket.write('GET /events?topic=stuck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    try {
      await waitFor('the stream to open', () => head.includes('event: hub.open') && hub.hub.connectionCount === 1);
      const payload = 'x'.repeat(1024 * 1024);
      let published = 0;
      // Until the hub holds a whole event it cannot hand to the kernel: the socket is full.
      while (hub.hub.inspect().streams[0]!.bufferedBytes < payload.length) {
        expect((await publish(hub.url, 'stuck', payload)).status).toBe(200);
        expect(++published).toBeLessThan(256);
      }
      await withTimeout('shutdown with a stream that never drains', hub.shutdown(), 15_000);
      // The hub's end of the stream waits behind bytes the client will never read: only the cut
      // closes the socket (without it, it would stay open until the client read everything).
      const open = () => new Promise<number>((resolve, reject) => hub.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      await waitFor('the hub to close the stuck socket', async () => (await open()) === 0);
      reading = true;
      socket.resume();
      await withTimeout('the client to see the stream end', closed, 15_000);
      // Cut, not drained: the client never got everything that was published.
      expect(received).toBeLessThan(published * payload.length);
    } finally {
      socket.destroy();
      await hub.shutdown();
    }
  });
});
