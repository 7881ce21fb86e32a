/**
 * A frozen NATS (SIGSTOP: sockets stay open, nothing answers) under HTTP publishing every 100 ms.
 * The hub must find the silence within the PING bound (interval × (max out + 1)) and say so on
 * /readyz, and no answer may claim "nothing was published" for an event that was in fact sent: those
 * answer 504 with the key to retry under, and JetStream stores a retry under that key once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

// Short, so the test is quick; the same variables as the hub's settings measure other values
// (`HUB_NATS_PING_INTERVAL_MS=5000 npx vitest run test/integration/nats-freeze.test.ts`: the defaults).
const PING_INTERVAL_MS = Number(process.env.HUB_NATS_PING_INTERVAL_MS ?? 500);
const MAX_PINGS_OUT = Number(process.env.HUB_NATS_MAX_PINGS_OUT ?? 2);
/** When the hub must have called NATS gone, counted from its last answer. */
const DETECTION_BOUND_MS = PING_INTERVAL_MS * (MAX_PINGS_OUT + 1);
/** For a shared, noisy machine: timers that fire late, a slow /readyz poll. */
const SCHEDULING_SLACK_MS = 2000;
/** Kept frozen this long after /readyz said 503, so that some publishes meet a known-down bus. */
const FROZEN_AFTER_DETECTION_MS = 1000;
const PUBLISH_EVERY_MS = 100;
const PING_ENV = { HUB_NATS_PING_INTERVAL_MS: String(PING_INTERVAL_MS), HUB_NATS_MAX_PINGS_OUT: String(MAX_PINGS_OUT), HUB_RETRY_MS: '50' };

interface Answer {
  readonly data: string;
  /** Date.now() when the request was sent and when its answer arrived. */
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly status: number;
  readonly body: { id?: string; msgId?: string; code?: string; accepted?: boolean };
}

/** A request that got no answer is status 0, so that the test reports it instead of crashing on it. */
async function postEvent(hubUrl: string, topic: string, data: string, msgId?: string): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await fetch(`${hubUrl}/publish?topic=${topic}`, {
      method: 'POST',
      body: data,
      headers: msgId ? { 'Nats-Msg-Id': msgId } : {},
      signal: AbortSignal.timeout(15_000),
    });
    return { data, sentAt, answeredAt: Date.now(), status: res.status, body: (await res.json()) as Answer['body'] };
  } catch (err) {
    return { data, sentAt, answeredAt: Date.now(), status: 0, body: { code: String(err) } };
  }
}

/** Publishes `e1`, `e2`, … every 100 ms without waiting for answers, as a busy backend does. */
class SteadyPublisher {
  private readonly pending: Promise<Answer>[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(hubUrl: string, topic: string) {
    this.timer = setInterval(() => this.pending.push(postEvent(hubUrl, topic, `e${this.pending.length + 1}`)), PUBLISH_EVERY_MS);
  }

  async stop(): Promise<Answer[]> {
    clearInterval(this.timer);
    return withTimeout('every publish to be answered', Promise.all(this.pending), 20_000);
  }

  [Symbol.dispose](): void {
    clearInterval(this.timer);
  }
}

interface Freeze {
  /** From SIGSTOP to the first /readyz 503. */
  readonly detectionMs: number;
  /** From SIGCONT to the first /readyz 200. */
  readonly recoveryMs: number;
  readonly frozenAt: number;
  readonly thawedAt: number;
}

const readyStatus = async (hub: TestHub): Promise<number> => (await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;

/** Freezes NATS until /readyz has said 503 for a while, thaws it, and waits for /readyz 200. */
async function freezeNats(nats: NatsServer, hub: TestHub): Promise<Freeze> {
  const frozenAt = Date.now();
  nats.freeze();
  try {
    await waitFor('/readyz 503 within the PING bound', async () => (await readyStatus(hub)) === 503, DETECTION_BOUND_MS + SCHEDULING_SLACK_MS, 25);
  } catch (err) {
    nats.thaw();
    throw err;
  }
  const detectionMs = Date.now() - frozenAt;
  await sleep(FROZEN_AFTER_DETECTION_MS);
  const thawedAt = Date.now();
  nats.thaw();
  await waitFor('/readyz 200 after SIGCONT', async () => (await readyStatus(hub)) === 200, 10_000, 25);
  return { detectionMs, recoveryMs: Date.now() - thawedAt, frozenAt, thawedAt };
}

/** Publishes every 100 ms from half a second before the freeze to half a second after /readyz is 200 again; prints the figures. */
async function publishThroughFreeze(mode: string, nats: NatsServer, hub: TestHub, topic: string): Promise<{ freeze: Freeze; answers: Answer[] }> {
  using publisher = new SteadyPublisher(hub.url, topic);
  await sleep(500);
  const freeze = await freezeNats(nats, hub);
  await sleep(500);
  const answers = await publisher.stop();
  const count = (status: number) => answers.filter((a) => a.status === status).length;
  console.log(
    `[faults] ${mode}, NATS frozen (ping ${PING_INTERVAL_MS} ms × ${MAX_PINGS_OUT} out, bound ${DETECTION_BOUND_MS} ms): ` +
      `/readyz 503 after ${freeze.detectionMs} ms, 200 again ${freeze.recoveryMs} ms after SIGCONT; ` +
      `answers: ${count(200)} × 200, ${count(202)} × 202, ${count(503)} × 503, ${count(504)} × 504`,
  );
  return { freeze, answers };
}

describe('NATS frozen while publishing over HTTP [faults] [jetstream]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it(
    'answers 200 with an id, 503 only for what was never sent, 504 with a key for the rest; retried, every event arrives once, in order',
    { timeout: 60_000 + 2 * DETECTION_BOUND_MS },
    async () => {
      const hub = await startTestHub(jetstreamEnv(nats, { ...PING_ENV, HUB_JETSTREAM_PUBLISH_TIMEOUT_MS: '1000' }));
      const sub = new Subscriber(hub.url, ['orders']);
      try {
        await sub.open();
        const { freeze, answers } = await publishThroughFreeze('JetStream', nats, hub, 'orders');
        const published = answers.filter((a) => a.status === 200);
        const refused = answers.filter((a) => a.status === 503);
        const unknown = answers.filter((a) => a.status === 504);

        // Retried under the key it was given, each unknown publish gets one id: its first copy's, if
        // JetStream stored it during the freeze.
        const retried = await Promise.all(unknown.map((a) => postEvent(hub.url, 'orders', a.data, a.body.msgId)));
        const last = await postEvent(hub.url, 'orders', 'last');
        await waitFor('the last event', () => sub.messages.some((e) => e.data === 'last'), 10_000);
        const got = sub.messages.map((e) => ({ data: e.data, id: e.id }));

        // "Nothing was published" was true of every event it was said of.
        expect(got.filter((e) => refused.some((a) => a.data === e.data))).toEqual([]);
        expect(answers.filter((a) => ![200, 503, 504].includes(a.status))).toEqual([]);
        // The freeze caught publishes in flight (504) and refused some after it was found (503).
        expect(unknown.length).toBeGreaterThan(0);
        expect(refused.length).toBeGreaterThan(0);
        for (const a of published) expect(a.body).toEqual({ id: expect.any(String), msgId: expect.any(String) });
        for (const a of refused) expect(a.body.code).toBe('bus_unavailable');
        for (const a of unknown) expect(a.body).toMatchObject({ code: 'publish_outcome_unknown', msgId: expect.any(String) });
        for (const r of [...retried, last]) expect(r.body).toEqual({ id: expect.any(String), msgId: expect.any(String) });

        // Exactly the acknowledged and retried events, each once, each with the id its answer gave...
        const idOf = new Map([...published, ...retried, last].map((a) => [a.data, a.body.id!]));
        expect([...got].sort(byData)).toEqual([...idOf].map(([data, id]) => ({ data, id })).sort(byData));
        // ...in stream order, with no reset.
        expect(got.map((e) => seqOf(e.id))).toEqual(got.map((e) => seqOf(e.id)).sort((x, y) => x - y));
        expect(sub.resets).toEqual([]);
      } finally {
        sub.close();
        await hub.shutdown();
      }
    },
  );
});

describe('NATS frozen while publishing over HTTP [faults] [nats]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('is not ready within the PING bound; 202 only for what the server read, 503 for what was never sent, 504 for the rest', { timeout: 60_000 + 2 * DETECTION_BOUND_MS }, async () => {
    const hub = await startTestHub({ NATS_URL: nats.url, ...PING_ENV });
    const sub = new Subscriber(hub.url, ['orders']);
    try {
      await sub.open();
      const { freeze, answers } = await publishThroughFreeze('core NATS', nats, hub, 'orders');
      const accepted = answers.filter((a) => a.status === 202);
      const refused = answers.filter((a) => a.status === 503);
      const last = await postEvent(hub.url, 'orders', 'last');
      await waitFor('the last event', () => sub.messages.some((e) => e.data === 'last'), 10_000);
      const got = sub.messages.map((e) => e.data);

      expect(got.filter((data) => refused.some((a) => a.data === data))).toEqual([]);
      expect([...answers, last].filter((a) => ![202, 503, 504].includes(a.status))).toEqual([]);
      expect(answers.filter((a) => a.status === 504).length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      // 202 means the server read the event (it answered a PING sent after it): a frozen one cannot.
      expect(accepted.filter((a) => a.sentAt > freeze.frozenAt && a.answeredAt < freeze.thawedAt)).toEqual([]);
      // What was read before the freeze arrived.
      expect(accepted.filter((a) => a.answeredAt < freeze.frozenAt && !got.includes(a.data))).toEqual([]);
      // Core NATS keeps nothing: the stream is told that events may have been lost meanwhile.
      expect(sub.resets.map((e) => JSON.parse(e.data).reason)).toEqual(['bus-reconnected']);
    } finally {
      sub.close();
      await hub.shutdown();
    }
  });
});

const byData = (a: { data: string }, b: { data: string }) => (a.data < b.data ? -1 : a.data > b.data ? 1 : 0);
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
