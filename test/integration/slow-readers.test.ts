/**
 * Never-reading clients while a publisher floods: raw sockets that send a subscription and then
 * never read. The hub (its own process, so its memory is its own) must close them as slow consumers
 * once their unsent bytes pass HUB_MAX_BUFFERED_BYTES, and keep delivering to a healthy subscriber.
 *
 * The memory bound is the hub's own account of what it holds unsent, sampled from the admin
 * listener's /debug/stats all through the flood: no stream ever holds more than the limit plus the
 * one frame that crossed it. Without the cut each never-reader would hold every event the kernel
 * could not take (megabytes each), so this bound fails at once. Resident memory cannot show that:
 * every stream shares the same frame buffers, so 40 stuck streams cost about one copy of the flood;
 * it is printed as a figure and held to a loose sanity bound.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { get } from '../helpers/http.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const NEVER_READERS = 40;
const EVENTS = 1000;
const EVENT_BYTES = 8 * 1024; // 8 MB in all: more than the kernel buffers of one socket hold (~4 MB send + 128 KB receive)
const MAX_BUFFERED = 64 * 1024;
const REPLAY_MAX_BYTES = 4 * 1024 * 1024;
// The most one stream may hold unsent: past the limit it is cut, so the frame that crossed it is the most over.
const UNSENT_BOUND = MAX_BUFFERED + EVENT_BYTES;
// A sanity bound on the hub's growth: replay buffer + every slow reader's allowance + 120 MB for
// V8 heap growth and garbage not yet collected under a flood.
const RSS_GROWTH_BOUND = REPLAY_MAX_BYTES + NEVER_READERS * MAX_BUFFERED + 120 * 1024 * 1024;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

describe('never-reading clients under a flood [slow-readers]', () => {
  it('closes them as slow consumers, bounds memory, and keeps a healthy subscriber fast', async () => {
    await using hub = await startHubProcess({
      HUB_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
      HUB_REPLAY_MAX_BYTES: String(REPLAY_MAX_BYTES),
      HUB_MAX_EVENT_BYTES: String(EVENT_BYTES * 2),
      HUB_RETRY_MS: '100',
      HUB_ADMIN_PORT: '0',
    });
    const unsentNow = async (): Promise<{ open: number; max: number }> => {
      const res = await get(`${hub.adminUrl}/debug/stats`);
      const { streams } = (await res.json()) as { streams: { open: number; bufferedBytes: { max: number } } };
      return { open: streams.open, max: streams.bufferedBytes.max };
    };
    const port = Number(new URL(hub.url).port);
    const sockets: Socket[] = [];
    let sampler: NodeJS.Timeout | undefined;
    let unsentSampling: Promise<void> | undefined;
    let sampling = true;
    try {
      // Let the process settle, then take the baseline.
      await new Promise((r) => setTimeout(r, 500));
      const baseline = hub.rss();
      let peak = baseline;
      sampler = setInterval(() => (peak = Math.max(peak, hub.rss())), 25);

      for (let i = 0; i < NEVER_READERS; i++) {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        socket.pause(); // never read a byte
        socket.write(`GET /events?topic=flood HTTP/1.1\r\nHost: x\r\n\r\n`);
        sockets.push(socket);
      }
      using healthy = new Subscriber(hub.url, ['flood']);
      await healthy.open();
      await waitFor('the never-readers to be subscribed', async () => {
        return (metricValue(await scrapeMetrics(hub.url), 'ssehub_connections') ?? 0) >= NEVER_READERS + 1;
      }, 10_000);

      // One stats read after another while the flood runs: the most any stream held unsent.
      let unsentPeak = 0;
      let unsentSamples = 0;
      unsentSampling = (async () => {
        while (sampling) {
          unsentPeak = Math.max(unsentPeak, (await unsentNow()).max);
          unsentSamples++;
        }
      })();

      const padding = 'x'.repeat(EVENT_BYTES - 20);
      const started = Date.now();
      let next = 0;
      const worker = async () => {
        while (next < EVENTS) {
          const n = next++;
          const res = await fetch(`${hub.url}/publish?topic=flood`, { method: 'POST', body: `${n}:${Date.now()}:${padding}`, signal: AbortSignal.timeout(10_000) });
          expect(res.status).toBe(200);
          await res.body?.cancel();
        }
      };
      await withTimeout('the flood to be published', Promise.all(Array.from({ length: 4 }, worker)), 60_000);
      const publishMs = Date.now() - started;
      const received = await healthy.waitForMessages(EVENTS, 30_000);
      clearInterval(sampler);
      sampling = false;
      await unsentSampling;
      // What is left once the flood is in: the healthy stream alone, holding at most the bound too.
      const after = await unsentNow();
      peak = Math.max(peak, hub.rss());

      // Latency: receive time minus the publish timestamp in the payload, for each event.
      const latencies = healthy.events.flatMap((e, i) => (e.type === 'message' ? [healthy.arrivals[i]! - Number(e.data.split(':')[1])] : []));
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
      const slowClosed = metricValue(await scrapeMetrics(hub.url), 'ssehub_slow_consumer_closes_total') ?? 0;
      console.log(
        `slow-readers: ${NEVER_READERS} never-readers, ${EVENTS} x ${EVENT_BYTES} B events in ${publishMs} ms; ` +
          `hub RSS baseline ${mb(baseline)}, peak ${mb(peak)} (+${mb(peak - baseline)}, bound +${mb(RSS_GROWTH_BOUND)}); ` +
          `most unsent bytes on one stream ${unsentPeak} over ${unsentSamples} samples (bound ${UNSENT_BOUND}); ` +
          `slow consumers closed ${slowClosed}; healthy latency p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies[latencies.length - 1]} ms`,
      );

      // First the memory bound, which fails on its own without the cut.
      expect(unsentSamples).toBeGreaterThan(0);
      expect(unsentPeak).toBeLessThanOrEqual(UNSENT_BOUND);
      expect(after.open).toBe(1);
      expect(after.max).toBeLessThanOrEqual(UNSENT_BOUND);
      // Four publishers race, so arrival order is the hub's; every event arrives once.
      expect(received.map((e) => Number(e.data.split(':')[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
      expect(healthy.resets).toHaveLength(0);
      expect(slowClosed).toBe(NEVER_READERS);
      expect(peak - baseline).toBeLessThan(RSS_GROWTH_BOUND);
      // The healthy subscriber kept up while the flood ran, rather than getting it all at the end: its
      // slowest events waited less than half the time the flood took to publish.
      expect(pct(99)).toBeLessThan(publishMs / 2);
    } finally {
      clearInterval(sampler);
      sampling = false;
      await unsentSampling?.catch(() => {});
      for (const socket of sockets) socket.destroy();
    }
  }, 120_000);
});
