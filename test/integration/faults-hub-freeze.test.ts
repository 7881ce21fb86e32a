/**
 * A hub frozen (SIGSTOP on its process): its clients' connections hang open, with no heartbeat and
 * no close, while another hub and the publishers go on. After SIGCONT the frozen hub must answer
 * /readyz 200 again and its clients must get every event published meanwhile, once, in order, on
 * the same connection, with no hub.reset (JetStream: the hub's ordered consumer resumes where it
 * stopped). How long its clients heard nothing is printed: a client that needs to notice sooner
 * watches the heartbeat (HUB_HEARTBEAT_MS) and reconnects elsewhere with its Last-Event-ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubProcess } from '../helpers/hub-process.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

const HEARTBEAT_MS = 500;
/** Frozen for this long: many heartbeats, and several NATS PING intervals of the frozen hub. */
const FROZEN_MS = 4000;

describe('a hub frozen with SIGSTOP [faults] [jetstream]', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('keeps its clients\' connections, and after SIGCONT delivers what they missed once, in order', { timeout: 120_000 }, async () => {
    const env = jetstreamEnv(nats, { HUB_HEARTBEAT_MS: String(HEARTBEAT_MS), HUB_NATS_PING_INTERVAL_MS: '500', HUB_NATS_MAX_PINGS_OUT: '2', HUB_RETRY_MS: '50' });
    await using frozen = await startHubProcess(env);
    await using other = await startHubProcess(env);
    using onFrozen = new Subscriber(frozen.url, ['f']);
    using onOther = new Subscriber(other.url, ['f']);
    await Promise.all([onFrozen.open(), onOther.open()]);

    const acked: { data: string; id: string }[] = [];
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const res = await fetch(`${other.url}/publish?topic=f`, { method: 'POST', body: `e${i}`, signal: AbortSignal.timeout(10_000) });
        expect(res.status).toBe(200);
        acked.push({ data: `e${i}`, id: ((await res.json()) as { id: string }).id });
        await sleep(50);
      }
    })();
    await waitFor('a first event on the frozen hub', () => onFrozen.messages.length > 0, 10_000);

    const frozenAt = Date.now();
    frozen.child.kill('SIGSTOP');
    try {
      await sleep(FROZEN_MS);
    } finally {
      frozen.child.kill('SIGCONT');
    }
    const thawedAt = Date.now();
    await waitFor('/readyz 200 after SIGCONT', async () => (await fetch(`${frozen.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200, 30_000, 20);
    const readyMs = Date.now() - thawedAt;
    const beforeThaw = onFrozen.arrivals.filter((t) => t < thawedAt).length;
    await waitFor('the frozen hub\'s client to get an event after SIGCONT', () => onFrozen.arrivals.length > beforeThaw, 30_000);
    const catchUpMs = onFrozen.arrivals[beforeThaw]! - thawedAt;

    publishing = false;
    await publisher;
    const last = await fetch(`${other.url}/publish?topic=f`, { method: 'POST', body: 'last' });
    acked.push({ data: 'last', id: ((await last.json()) as { id: string }).id });
    for (const sub of [onFrozen, onOther]) await waitFor('the last event', () => sub.messages.some((e) => e.data === 'last'), 30_000);

    const silentMs = Math.max(...onFrozen.arrivals.slice(1).map((t, i) => t - onFrozen.arrivals[i]!));
    console.log(
      `[faults] hub frozen ${thawedAt - frozenAt} ms (SIGSTOP): its clients heard nothing for ${silentMs} ms (heartbeat every ${HEARTBEAT_MS} ms), ` +
        `/readyz 200 ${readyMs} ms after SIGCONT, first missed event ${catchUpMs} ms after SIGCONT; ${acked.length} events published through the other hub`,
    );
    const expected = acked.map(({ data, id }) => ({ data, id }));
    for (const sub of [onFrozen, onOther]) {
      expect(sub.messages.map(({ data, id }) => ({ data, id }))).toEqual(expected);
      expect(sub.resets).toEqual([]);
    }
    // The connection hung, it did not close: the same stream carried on after SIGCONT.
    expect(onFrozen.opens).toBe(1);
    expect(silentMs).toBeGreaterThanOrEqual(FROZEN_MS - 100);
  });
});
