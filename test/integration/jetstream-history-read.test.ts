/**
 * Resumes served from the JetStream stream itself (the replay buffer is kept at one event, so the
 * stream's history is what is read), against a real nats-server: a replay within
 * HUB_HISTORY_MAX_EVENTS, the `too-far-behind` reset past it, and a history read that fails (the
 * stream deleted under the hub), which closes the stream as bus-unavailable instead of leaving a
 * silent gap. Each outcome is counted in /metrics by reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { publish, startTestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { captureLog } from '../helpers/log-capture.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { RawStream } from '../helpers/raw-stream.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

describe('resumes read from the JetStream stream [jetstream]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  /** A hub whose own buffer holds one event, so a resume further back reads the stream. */
  const historyEnv = (maxEvents: number) => jetstreamEnv(nats, { HUB_RETRY_MS: '50', HUB_REPLAY_MAX_EVENTS: '1', HUB_HISTORY_MAX_EVENTS: String(maxEvents) });

  /** The position a stream on `topic` opens at, then `count` events published on it. */
  async function positionThenPublish(hubUrl: string, topic: string, count: number): Promise<string> {
    const first = new Subscriber(hubUrl, [topic]);
    await first.open();
    const position = first.events.at(-1)!.id;
    for (let i = 0; i < count; i++) expect((await publish(hubUrl, topic, `e${i}`)).status).toBe(200);
    await first.waitForMessages(count);
    first.close();
    return position;
  }

  it('replays up to HUB_HISTORY_MAX_EVENTS from the stream, and past it sends hub.reset too-far-behind', async () => {
    await using hub = await startTestHub(historyEnv(3));
    const position = await positionThenPublish(hub.url, 'far', 3);
    using within = new Subscriber(hub.url, ['far'], { lastEventId: position });
    await within.open();
    expect({ messages: within.messages.map((e) => e.data), resets: within.resets }).toEqual({ messages: ['e0', 'e1', 'e2'], resets: [] });
    within.close();

    expect((await publish(hub.url, 'far', 'e3')).status).toBe(200);
    using beyond = new Subscriber(hub.url, ['far'], { lastEventId: position });
    await beyond.open();
    expect(beyond.resets.map((e) => JSON.parse(e.data))).toEqual([{ reason: 'too-far-behind', lastEventId: position }]);
    expect(beyond.messages).toEqual([]);
    // The reset's id is the position now: a reconnect from it resumes exactly.
    expect(beyond.resets[0]!.id).toBe(beyond.events.at(-1)!.id);

    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_resets_sent_total', { reason: 'too-far-behind' })).toBe(1);
    expect(metricValue(metrics, 'ssehub_resets_sent_total', { reason: 'history-gone' })).toBeUndefined();
    expect(metricValue(metrics, 'ssehub_replays_served_total')).toBe(1);
  });

  it('closes a resuming stream as bus-unavailable when its history cannot be read, with no reset and no hub.open', async () => {
    const captured = captureLog('info');
    const env = historyEnv(100);
    await using hub = await startTestHub(env, { log: captured.log });
    const position = await positionThenPublish(hub.url, 'lost', 3);
    // A stream kept open keeps the topic's subscription active: the resume below goes straight to the history read.
    const keeper = new RawStream(`${hub.url}/events?topic=lost`);
    await keeper.waitForText('event: hub.open');
    const nc = await connect({ servers: nats.url });
    try {
      await (await nc.jetstreamManager()).streams.delete(env.HUB_JETSTREAM_STREAM!);
    } finally {
      await nc.close();
    }

    const resuming = new RawStream(`${hub.url}/events?topic=lost`, { 'Last-Event-ID': position });
    await resuming.waitForEnd(15_000);
    keeper.close();
    expect(resuming.status).toBe(200);
    expect(resuming.text).not.toContain('hub.reset');
    expect(resuming.text).not.toContain('hub.open');
    expect(resuming.text).not.toContain('data: e');
    await captured.waitForMessage('reading history from the bus failed; closing the stream');
    await waitFor('the streams to close', () => hub.hub.connectionCount === 0);
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_connections_closed_total', { reason: 'bus-unavailable' })).toBe(1);
    expect(metricValue(metrics, 'ssehub_replays_served_total')).toBe(0);
  });
});
