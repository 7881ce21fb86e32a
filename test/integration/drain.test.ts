/**
 * A rolling update, end to end: clients reach two hubs through a real nginx configured as the
 * Ingress (the second hub is nginx's backup, so every stream starts on the first). The first hub is
 * shut down: it must answer /readyz 503 at once, end its streams spread over HUB_DRAIN_WINDOW_MS
 * rather than all at once, and every client must come back on the other hub through the proxy.
 *
 * Core NATS and the embedded bus number events per node, so no client can resume exactly on another
 * node: each must be told so with one hub.reset naming the id it held, never left with a silent gap.
 * With cluster-wide ids (the JetStream bus, where busKinds() offers it) every client must resume
 * exactly instead: no reset, and an event published mid-drain reaches every client once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { ingressLocationDirectives } from '../helpers/ingress-nginx.js';
import { startNginx } from '../helpers/nginx.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';
import { withTimeout } from '../helpers/wait.js';

const CLIENTS = 10;
const DRAIN_WINDOW_MS = 1500;

for (const kind of busKinds()) {
  describe(`draining for a rolling update [${kind.name}] [nginx]`, () => {
    afterAll(() => kind.dispose());

    // Cast: on branches whose busKinds() has no JetStream kind the comparison is simply never true.
    const exactResume = (kind.name as string) === 'jetstream';

    it(`goes unready at once, spreads stream ends over the window, and clients resume elsewhere ${exactResume ? 'exactly' : 'told by hub.reset'}`, async () => {
      const env = { HUB_RETRY_MS: '100', ...(await kind.env()) };
      const leaving = await startTestHub({ ...env, HUB_DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS), HUB_SHUTDOWN_TIMEOUT_MS: '5000' });
      await using staying = await startTestHub(env);
      await using nginx = await startNginx({
        upstreams: [{ port: leaving.port }, { port: staying.port, backup: true }],
        location: ingressLocationDirectives(),
      });
      const subs = Array.from({ length: CLIENTS }, () => new Subscriber(nginx.url, ['deploy']));
      try {
        await Promise.all(subs.map((s) => s.open()));
        expect(leaving.hub.connectionCount).toBe(CLIENTS);
        await publish(leaving.url, 'deploy', 'before');
        await Promise.all(subs.map((s) => s.waitForMessages(1)));
        const heldIds = subs.map((s) => s.messages[0]!.id);

        const endedAt: number[] = [];
        subs.forEach((s, i) => s.source.addEventListener('error', () => (endedAt[i] ??= performance.now())));
        const started = performance.now();
        const stopping = leaving.shutdown();
        const ready = await fetch(`${leaving.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        expect(ready.status).toBe(503);
        expect(await ready.json()).toMatchObject({ shuttingDown: true });
        // Unready while most streams are still open: the load balancer hears first.
        expect(leaving.hub.connectionCount).toBeGreaterThan(CLIENTS / 2);
        // Mid-drain, some clients on each hub: only cluster-wide ids can carry this across.
        if (exactResume) await publish(staying.url, 'deploy', 'during');

        await withTimeout('the draining hub to stop', stopping, 5000);
        await Promise.all(subs.map((s) => s.open(2, 5000)));
        const offsets = endedAt.map((t) => t - started).sort((a, b) => a - b);
        console.log(`[drain] ${CLIENTS} streams ended at ms: ${offsets.map((ms) => Math.round(ms)).join(', ')}`);
        expect(offsets).toHaveLength(CLIENTS);
        // k-th of n ends at k/n of the window: 0 .. 1350 ms here. All at once would be a spread of ~0.
        expect(offsets.at(-1)! - offsets[0]!).toBeGreaterThan(DRAIN_WINDOW_MS * 0.6);
        expect(offsets.at(-1)!).toBeLessThan(DRAIN_WINDOW_MS + 1000);
        const firstHalf = offsets.filter((ms) => ms < DRAIN_WINDOW_MS / 2).length;
        expect(firstHalf).toBeGreaterThanOrEqual(2);
        expect(firstHalf).toBeLessThanOrEqual(CLIENTS - 2);

        expect(staying.hub.connectionCount).toBe(CLIENTS);
        await publish(staying.url, 'deploy', 'after');
        const expected = exactResume ? ['before', 'during', 'after'] : ['before', 'after'];
        for (const s of subs) expect((await s.waitForMessages(expected.length)).map((e) => e.data)).toEqual(expected);
        subs.forEach((s, i) => {
          if (exactResume) {
            expect(s.resets).toEqual([]);
          } else {
            expect(s.events.map((e) => e.type)).toEqual(['hub.open', 'message', 'hub.reset', 'hub.open', 'message']);
            expect(JSON.parse(s.resets[0]!.data)).toEqual({ reason: 'unknown-id', lastEventId: heldIds[i] });
          }
        });
      } finally {
        for (const s of subs) s.close();
        await leaving.shutdown();
      }
    });
  });
}
