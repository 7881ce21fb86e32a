/**
 * A hub partitioned from NATS so that its packets vanish rather than being refused: nats-server runs
 * in a network namespace of its own, reached over two veth pairs, and one hub's path is cut by a
 * zero-length queue on both ends of its veth (test/helpers/netns.ts). The other hub keeps its path,
 * and HTTP publishes go on through it. The cut hub must find the silence within the PING bound
 * (/readyz 503), keep its streams open, and after the heal deliver every event it missed, once, in
 * order, with no hub.reset (JetStream). Detection and recovery times are printed.
 */
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { assertNatsServerInstalled, NATS_SERVER_BIN } from '../helpers/nats-server.js';
import { createNetns } from '../helpers/netns.js';
import { Subscriber } from '../helpers/sse-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

const PING_INTERVAL_MS = 500;
const MAX_PINGS_OUT = 2;
const DETECTION_BOUND_MS = PING_INTERVAL_MS * (MAX_PINGS_OUT + 1);
const SLACK_MS = 3000;
/** After the heal, the client's pending connect waits on SYN retransmission (1 s, 2 s, 4 s, …). */
const RECOVERY_BOUND_MS = 30_000;
const NATS_PORT = 4222;

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, host);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('a hub partitioned from NATS, packets dropped [faults] [partition] [jetstream]', () => {
  it('is not ready within the PING bound, keeps its streams open, and after the heal delivers every event once, in order', { timeout: 120_000 }, async () => {
    assertNatsServerInstalled();
    await using ns = createNetns(2);
    const store = mkdtempSync(join(tmpdir(), 'ssehub-netns-nats-'));
    const nats = ns.spawn(NATS_SERVER_BIN, ['-a', '0.0.0.0', '-p', String(NATS_PORT), '-js', '-sd', store], { stdio: 'ignore' });
    try {
      const [cutPath, keptPath] = ns.paths as [(typeof ns.paths)[0], (typeof ns.paths)[0]];
      await waitFor('nats-server to listen in its namespace', () => reachable(keptPath.remote, NATS_PORT), 10_000, 50);
      const envA = jetstreamEnv({ url: `nats://${cutPath.remote}:${NATS_PORT}` }, {
        HUB_NATS_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
        HUB_NATS_MAX_PINGS_OUT: String(MAX_PINGS_OUT),
        HUB_RETRY_MS: '50',
      });
      const envB = { ...envA, NATS_URL: `nats://${keptPath.remote}:${NATS_PORT}` };
      await using cut = await startTestHub(envA);
      await using kept = await startTestHub(envB);
      using onCut = new Subscriber(cut.url, ['p']);
      using onKept = new Subscriber(kept.url, ['p']);
      await Promise.all([onCut.open(), onKept.open()]);

      // HTTP publishes through the hub that keeps its path, each retried under its key until 200.
      const acked: { data: string; id: string }[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let i = 0; publishing; i++) {
          for (;;) {
            const res = await fetch(`${kept.url}/publish?topic=p`, { method: 'POST', body: `e${i}`, headers: { 'Nats-Msg-Id': `e${i}` }, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
            const body = res && ((await res.json()) as { id?: string });
            if (res?.status === 200 && body?.id) {
              acked.push({ data: `e${i}`, id: body.id });
              break;
            }
            await sleep(100);
          }
          await sleep(50);
        }
      })();
      const ready = async () => (await fetch(`${cut.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
      await sleep(500);

      const cutAt = Date.now();
      cutPath.cut();
      let detectedMs: number;
      let refused: { status: number; code?: string };
      try {
        await waitFor('/readyz 503 within the PING bound', async () => (await ready()) === 503, DETECTION_BOUND_MS + SLACK_MS, 20);
        detectedMs = Date.now() - cutAt;
        // Known down: a publish through the cut hub is refused, and never delivered.
        const res = await fetch(`${cut.url}/publish?topic=p`, { method: 'POST', body: 'refused' });
        refused = { status: res.status, code: ((await res.json()) as { code?: string }).code };
        await sleep(1000);
      } finally {
        cutPath.heal();
      }
      const healedAt = Date.now();
      await waitFor('/readyz 200 after the heal', async () => (await ready()) === 200, RECOVERY_BOUND_MS, 20);
      const recoveredMs = Date.now() - healedAt;

      publishing = false;
      await publisher;
      const last = await fetch(`${kept.url}/publish?topic=p`, { method: 'POST', body: 'last' });
      acked.push({ data: 'last', id: ((await last.json()) as { id: string }).id });
      for (const sub of [onCut, onKept]) await waitFor('the last event', () => sub.messages.some((e) => e.data === 'last'), 30_000);

      console.log(
        `[faults] [partition] hub cut from NATS (packets dropped; ping ${PING_INTERVAL_MS} ms × ${MAX_PINGS_OUT} out, bound ${DETECTION_BOUND_MS} ms): ` +
          `/readyz 503 after ${detectedMs} ms, 200 again ${recoveredMs} ms after the heal; ${acked.length} events published meanwhile through the other hub`,
      );
      expect(refused).toEqual({ status: 503, code: 'bus_unavailable' });
      const expected = acked.map(({ data, id }) => ({ data, id }));
      for (const sub of [onCut, onKept]) {
        expect(sub.messages.map(({ data, id }) => ({ data, id }))).toEqual(expected);
        expect(sub.resets).toEqual([]);
      }
      // The cut hub's stream stayed open through it all.
      expect(onCut.opens).toBe(1);
    } finally {
      nats.kill('SIGKILL');
      await new Promise((resolve) => (nats.exitCode !== null ? resolve(undefined) : nats.once('exit', resolve)));
      rmSync(store, { recursive: true, force: true });
    }
  });
});
