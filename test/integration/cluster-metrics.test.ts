/**
 * /metrics of a hub with HUB_WORKERS=2 (the real entry point on a real nats-server) describes the
 * whole pod, whichever worker takes the scrape: every scrape, on a connection of its own (so
 * consecutive scrapes reach both workers), counts every worker's streams and events. A worker that
 * does not answer in time is left out without stalling the scrape, and its counters do not drop.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processTree } from '../../loadtest/lib/proc.js';
import { publish } from '../helpers/hub.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { metricValue, scrapeOnNewConnection } from '../helpers/metrics.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const TOPIC = 'pod.metrics';
const SCRAPES = 6;

/** The epoch of an event id (`<epoch>-<seq>`): on core NATS each worker numbers in its own. */
const epochOf = (id: string): string => id.slice(0, id.lastIndexOf('-'));

/**
 * At least `min` open streams, on both workers: each EventSource holds a connection of its own and the
 * primary hands new connections to the workers in turn, but a worker still starting takes none yet.
 * Which worker holds a stream is read from its hub.open id. Returns the streams by worker epoch.
 */
async function streamsOnBothWorkers(hubUrl: string, subs: Subscriber[], min: number): Promise<Map<string, number>> {
  const byWorker = new Map<string, number>();
  await waitFor(`streams on both workers (have ${subs.length})`, async () => {
    const sub = new Subscriber(hubUrl, [TOPIC]);
    subs.push(sub);
    await sub.open();
    const epoch = epochOf(sub.events[0]!.id);
    byWorker.set(epoch, (byWorker.get(epoch) ?? 0) + 1);
    return byWorker.size === 2 && subs.length >= min;
  }, 20_000, 50);
  return byWorker;
}

/** The pids of the primary's workers (the hub's own children running src/main.ts, not tsx's helpers). */
function workerPids(hub: HubProcess): number[] {
  return processTree(hub.pid).filter((pid) => {
    if (pid === hub.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/main.ts');
    } catch {
      return false; // gone meanwhile
    }
  });
}

describe('[cluster] [nats] metrics of a pod with two workers', () => {
  it('[cluster] [nats] every scrape counts the streams and events of both workers', async () => {
    await using nats = await startNatsServer();
    await using hub = await startHubProcess({ NATS_URL: nats.url, HUB_WORKERS: '2' });
    const subs: Subscriber[] = [];
    try {
      const byWorker = await streamsOnBothWorkers(hub.url, subs, 3);
      const streams = subs.length;
      for (let i = 0; i < SCRAPES; i++) {
        const text = await scrapeOnNewConnection(hub.port);
        const at = `scrape ${i + 1} of ${SCRAPES}, streams by worker ${JSON.stringify([...byWorker.values()])}`;
        expect(metricValue(text, 'ssehub_connections_opened_total'), at).toBe(streams);
        expect(metricValue(text, 'ssehub_connections'), at).toBe(streams);
        expect(metricValue(text, 'ssehub_bus_subscriptions'), at).toBe(2); // one per worker for the topic
        expect(metricValue(text, 'ssehub_bus_connected'), at).toBe(1);
        expect(metricValue(text, 'ssehub_cluster_workers'), at).toBe(2);
        expect(metricValue(text, 'ssehub_cluster_scrape_timeouts_total'), at).toBe(0);
      }

      const events = 5;
      for (let i = 0; i < events; i++) expect((await publish(hub.url, TOPIC, `e${i}`)).status).toBe(202);
      await Promise.all(subs.map((s) => s.waitForMessages(events, 10_000)));
      for (let i = 0; i < SCRAPES; i++) {
        const text = await scrapeOnNewConnection(hub.port);
        const at = `scrape ${i + 1} of ${SCRAPES} after ${events} events`;
        expect(metricValue(text, 'ssehub_events_published_total'), at).toBe(events); // each taken by one worker
        expect(metricValue(text, 'ssehub_events_received_total'), at).toBe(2 * events); // NATS brings each to both
        expect(metricValue(text, 'ssehub_events_delivered_total'), at).toBe(events * streams);
        expect(metricValue(text, 'ssehub_publish_to_write_seconds_count'), at).toBe(2 * events);
      }

      // /demo/stats gives the same figures as /metrics.
      const stats = (await (await fetch(`${hub.url}/demo/stats`, { signal: AbortSignal.timeout(5000) })).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ connections: streams, busSubscriptions: 2, busConnected: true, eventsPublished: events, eventsReceived: 2 * events, eventsDelivered: events * streams });
    } finally {
      for (const s of subs) s.close();
    }
  }, 90_000);

  it('[cluster] [nats] a worker that does not answer is left out, without stalling the scrape or lowering a counter', async () => {
    await using nats = await startNatsServer();
    await using hub = await startHubProcess({ NATS_URL: nats.url, HUB_WORKERS: '2' });
    const subs: Subscriber[] = [];
    const workers = workerPids(hub);
    expect(workers).toHaveLength(2);
    const stopped = workers[0]!;
    let scrapes: Promise<string>[] = [];
    try {
      const byWorker = await streamsOnBothWorkers(hub.url, subs, 3);
      const streams = subs.length;
      // The primary keeps each worker's counters from its last answer: this scrape gives it them.
      expect(metricValue(await scrapeOnNewConnection(hub.port), 'ssehub_connections_opened_total')).toBe(streams);

      process.kill(stopped, 'SIGSTOP');
      // A stopped worker takes at most one new connection (it never says it took it, so the primary
      // gives it no more): of three scrapes, two reach the running worker, which answers for the pod.
      scrapes = Array.from({ length: 3 }, () => scrapeOnNewConnection(hub.port, 20_000));
      const text = await withTimeout('a scrape answered while a worker is stopped', Promise.any(scrapes), 20_000);
      expect(metricValue(text, 'ssehub_connections_opened_total')).toBe(streams); // the stopped worker's, from its last answer
      expect(metricValue(text, 'ssehub_cluster_scrape_timeouts_total')).toBeGreaterThanOrEqual(1);
      // Gauges only from the worker that answered: its streams alone.
      expect([...byWorker.values()]).toContain(metricValue(text, 'ssehub_connections'));

      process.kill(stopped, 'SIGCONT');
      await withTimeout('every scrape answered once the worker runs again', Promise.allSettled(scrapes), 20_000);
      await waitFor('both workers answering again', async () => metricValue(await scrapeOnNewConnection(hub.port, 10_000), 'ssehub_connections') === streams, 20_000, 100);
    } finally {
      process.kill(stopped, 'SIGCONT'); // harmless when already running; a stopped worker would stall the hub's exit
      for (const s of subs) s.close();
    }
  }, 90_000);

  it('[cluster] [nats] a worker that dies and is replaced leaves its counts to the pod: no counter goes down', async () => {
    await using nats = await startNatsServer();
    await using hub = await startHubProcess({ NATS_URL: nats.url, HUB_WORKERS: '2' });
    const subs: Subscriber[] = [];
    try {
      await streamsOnBothWorkers(hub.url, subs, 3);
    } finally {
      // Closed before the kill, so that no client reconnects and the counts stay what they were.
      for (const s of subs) s.close();
    }
    const streams = subs.length;
    await waitFor('every stream closed', async () => metricValue(await scrapeOnNewConnection(hub.port), 'ssehub_connections') === 0, 10_000, 50);

    const [killed, survivor] = workerPids(hub);
    process.kill(killed!, 'SIGKILL');
    await waitFor('a replacement worker', () => {
      const now = workerPids(hub);
      return now.length === 2 && !now.includes(killed!) && now.includes(survivor!);
    }, 20_000, 50);
    for (let i = 0; i < SCRAPES; i++) {
      const text = await scrapeOnNewConnection(hub.port);
      const at = `scrape ${i + 1} of ${SCRAPES} after a worker was replaced`;
      expect(metricValue(text, 'ssehub_connections_opened_total'), at).toBe(streams);
      expect(metricValue(text, 'ssehub_connections_closed_total', { reason: 'client-closed' }), at).toBe(streams);
    }
  }, 90_000);
});
