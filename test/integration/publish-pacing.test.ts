/**
 * Overload pacing: subscribers that take nothing (raw sockets that never read) while a publisher
 * goes on. Once the streams' unsent bytes together pass HUB_PUBLISH_MAX_BACKLOG_BYTES, a publish is
 * refused with 503 `overloaded` and Retry-After, counted in ssehub_requests_rejected_total, and
 * nothing of it is published. No timing: the publisher goes on until the refusal comes, bounded by
 * a count of publishes far above what the kernel's socket buffers and the bound can hold.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';

const READERS = 8;
const EVENT_BYTES = 64 * 1024;
// Per stream, and the pacing bound for all of them together: each stream is refused new events once
// the eight together hold 8 MiB, long before any of them nears its own 8 MiB slow-consumer limit.
const BOUND = 8 * 1024 * 1024;
// Loopback sockets hold a few MB each in kernel buffers before the hub holds anything: 2,000 x 64 KiB
// (128 MB per stream) is far beyond what fits before the bound.
const MAX_PUBLISHES = 2000;

describe('overload pacing [memory]', () => {
  it('[memory] refuses publishes with 503 overloaded and Retry-After once subscribers are too far behind', async () => {
    await using hub = await startTestHub({
      HUB_MAX_BUFFERED_BYTES: String(BOUND),
      HUB_PUBLISH_MAX_BACKLOG_BYTES: String(BOUND),
      HUB_MAX_EVENT_BYTES: String(EVENT_BYTES),
    });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < READERS; i++) {
        const socket = connect({ port: Number(new URL(hub.url).port), host: '127.0.0.1' });
        socket.on('error', () => {});
        socket.pause(); // never read a byte
        socket.write('GET /events?topic=flood HTTP/1.1\r\nHost: x\r\n\r\n');
        sockets.push(socket);
      }
      await waitFor('the never-readers to be subscribed', async () => (metricValue(await scrapeMetrics(hub.url), 'ssehub_connections') ?? 0) >= READERS, 10_000);

      const payload = 'x'.repeat(EVENT_BYTES);
      let accepted = 0;
      let refusal: { status: number; retryAfter: string | null; body: Record<string, unknown> } | undefined;
      while (!refusal && accepted < MAX_PUBLISHES) {
        const res = await fetch(`${hub.url}/publish?topic=flood`, { method: 'POST', body: payload, signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as Record<string, unknown>;
        if (res.status === 200) accepted++;
        else refusal = { status: res.status, retryAfter: res.headers.get('retry-after'), body };
      }
      expect(refusal, `no refusal after ${accepted} publishes`).toBeDefined();
      expect(refusal!.status).toBe(503);
      expect(refusal!.body).toMatchObject({ code: 'overloaded' });
      expect(Number(refusal!.retryAfter)).toBeGreaterThanOrEqual(1);

      const metrics = await scrapeMetrics(hub.url);
      expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'overloaded' })).toBeGreaterThanOrEqual(1);
      // The refused event was not published, and no stream was cut for being slow: pacing came first.
      expect(metricValue(metrics, 'ssehub_events_published_total')).toBe(accepted);
      expect(metricValue(metrics, 'ssehub_slow_consumer_closes_total') ?? 0).toBe(0);
      console.log(`pacing: refused after ${accepted} x ${EVENT_BYTES} B publishes to ${READERS} never-readers (bound ${BOUND} B)`);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
