/**
 * What a client sees when NATS is away, against a real nats-server that is stopped and started again
 * on the same port: a new stream is refused before it starts (503, Retry-After, `bus_unavailable`),
 * and opens again once NATS is back; a stream whose subscription fails is closed for that reason,
 * not as `shutdown`, and does not spoil the topic for the next stream.
 */
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { get } from '../helpers/http.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { RawStream } from '../helpers/raw-stream.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const readiness = (hubUrl: string, status: number) => async () => (await get(`${hubUrl}/readyz`)).status === status;

for (const { name, jetstream } of [
  { name: 'nats', jetstream: false },
  { name: 'jetstream', jetstream: true },
]) {
  describe(`a NATS outage [edge] [${name}]`, () => {
    it('refuses new streams with 503, Retry-After and bus_unavailable, and opens them once NATS is back', async () => {
      await using nats = await startNatsServer({ jetstream });
      await using hub = await startTestHub({ ...(jetstream ? jetstreamEnv(nats) : { NATS_URL: nats.url }), HUB_RETRY_MS: '2000' });

      await nats.stop();
      await waitFor('the hub to see NATS gone', readiness(hub.url, 503), 15_000, 50);
      const refused = await get(`${hub.url}/events?topic=a`);
      expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), type: refused.headers.get('content-type') }).toEqual({
        status: 503,
        retryAfter: '2',
        type: 'application/json',
      });
      expect(((await refused.json()) as { code: string }).code).toBe('bus_unavailable');

      await nats.restart();
      await waitFor('the hub to be ready again', readiness(hub.url, 200), 20_000, 50);
      const stream = new RawStream(`${hub.url}/events?topic=a`);
      try {
        await stream.waitForText('event: hub.open', 10_000);
        expect(stream.status).toBe(200);
      } finally {
        stream.close();
      }
      const metrics = await scrapeMetrics(hub.url);
      expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'bus_unavailable' })).toBe(1);
      expect(metricValue(metrics, 'ssehub_connections_opened_total')).toBe(1);
    });
  });
}

describe('a subscription the bus fails [edge] [nats]', () => {
  it('closes the stream as bus-unavailable, and the next stream on the topic subscribes anew', async () => {
    await using nats = await startNatsServer();
    // Through a proxy that can stop passing NATS's answers: the hub still believes NATS is there,
    // so the stream starts, and its subscription waits for the round trip that confirms it.
    const proxy = new TcpProxy(nats.port);
    await proxy.start();
    try {
      await using hub = await startTestHub({ NATS_URL: `nats://127.0.0.1:${proxy.port}` });
      proxy.stall();
      const first = new RawStream(`${hub.url}/events?topic=b`);
      await first.waitForText('retry:');
      // The connection to NATS drops with the subscription unconfirmed; new connections pass again.
      proxy.cut();
      proxy.resume();
      await first.waitForEnd(10_000);
      expect(first.text).not.toContain('hub.open');

      await waitFor('the hub to be ready again', readiness(hub.url, 200), 20_000, 50);
      const second = new RawStream(`${hub.url}/events?topic=b`);
      try {
        await second.waitForText('event: hub.open', 10_000);
      } finally {
        second.close();
      }
      await waitFor('the second stream to close', () => hub.hub.connectionCount === 0);
      const metrics = await scrapeMetrics(hub.url);
      expect(metricValue(metrics, 'ssehub_connections_closed_total', { reason: 'bus-unavailable' })).toBe(1);
      expect(metricValue(metrics, 'ssehub_connections_closed_total', { reason: 'shutdown' })).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
