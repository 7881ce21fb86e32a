/**
 * How a pod's workers combine into one /metrics answer (src/metrics.ts chooses each metric's
 * aggregator, src/pod-metrics.ts applies them): real HubMetrics registries, aggregated as the
 * primary does it.
 */
import { AggregatorRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HubMetrics } from '../../src/metrics.js';
import { addSamples, countersOf } from '../../src/pod-metrics.js';
import { metricValue } from '../helpers/metrics.js';

type WorkerState = { connections: number; busConnected: boolean; replayEvents: number };

function worker(state: WorkerState): HubMetrics {
  return new HubMetrics({ connections: () => state.connections, busSubscriptions: () => 1, replayEvents: () => state.replayEvents, replayBytes: () => state.replayEvents * 100, busConnected: () => state.busConnected });
}

describe('a pod of workers in one answer', () => {
  it('sums counters and streams, is disconnected when any worker is, and shows the fullest replay buffer and the worst event-loop lag', async () => {
    const a = worker({ connections: 2, busConnected: true, replayEvents: 10 });
    const b = worker({ connections: 1, busConnected: false, replayEvents: 30 });
    a.connectionsOpened.inc(2);
    b.connectionsOpened.inc(5);
    a.publishToWrite.observe(0.002);
    b.publishToWrite.observe(0.2);
    const parts = [await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()];
    // Runtime figures the test cannot steer, set in what each worker sends.
    const set = (part: number, name: string, value: number) => (parts[part]!.find((m) => m.name === name)!.values[0]!.value = value);
    set(0, 'ssehub_nodejs_eventloop_lag_p99_seconds', 0.01);
    set(1, 'ssehub_nodejs_eventloop_lag_p99_seconds', 0.5);
    set(0, 'ssehub_process_open_fds', 900);
    set(1, 'ssehub_process_open_fds', 20);
    set(0, 'ssehub_process_max_fds', 1024);
    set(1, 'ssehub_process_max_fds', 4096);
    const text = await AggregatorRegistry.aggregate(parts).metrics();

    expect(metricValue(text, 'ssehub_connections_opened_total')).toBe(7);
    expect(metricValue(text, 'ssehub_connections')).toBe(3);
    expect(metricValue(text, 'ssehub_bus_subscriptions')).toBe(2);
    expect(metricValue(text, 'ssehub_publish_to_write_seconds_count')).toBe(2);
    expect(metricValue(text, 'ssehub_publish_to_write_seconds_bucket', { le: '0.0025' })).toBe(1);
    expect(metricValue(text, 'ssehub_bus_connected')).toBe(0);
    expect(metricValue(text, 'ssehub_replay_events')).toBe(30);
    expect(metricValue(text, 'ssehub_replay_bytes')).toBe(3000);
    expect(metricValue(text, 'ssehub_nodejs_eventloop_lag_p99_seconds')).toBe(0.5);
    expect(metricValue(text, 'ssehub_process_open_fds')).toBe(900);
    expect(metricValue(text, 'ssehub_process_max_fds')).toBe(1024);
    expect(metricValue(text, 'ssehub_process_start_time_seconds')).toBeGreaterThan(0); // kept, as in one process
  });

  it('keeps only counters and histograms to stand in for a worker, and adds them sample by sample', async () => {
    const a = worker({ connections: 2, busConnected: true, replayEvents: 1 });
    const b = worker({ connections: 1, busConnected: true, replayEvents: 1 });
    a.connectionsClosed.inc({ reason: 'client-closed' }, 2);
    b.connectionsClosed.inc({ reason: 'client-closed' }, 1);
    b.connectionsClosed.inc({ reason: 'max-age' }, 4);
    a.publishToWrite.observe(0.002);
    b.publishToWrite.observe(0.002);
    const aCounters = countersOf(await a.registry.getMetricsAsJSON());
    expect(aCounters.map((m) => m.name)).toContain('ssehub_connections_opened_total');
    expect(aCounters.map((m) => m.name)).not.toContain('ssehub_connections');
    const before = JSON.stringify(aCounters);

    const sum = addSamples(aCounters, countersOf(await b.registry.getMetricsAsJSON()));
    expect(JSON.stringify(aCounters)).toBe(before); // inputs untouched
    const text = await AggregatorRegistry.aggregate([sum]).metrics();
    expect(metricValue(text, 'ssehub_connections_closed_total', { reason: 'client-closed' })).toBe(3);
    expect(metricValue(text, 'ssehub_connections_closed_total', { reason: 'max-age' })).toBe(4);
    expect(metricValue(text, 'ssehub_publish_to_write_seconds_bucket', { le: '0.0025' })).toBe(2);
    expect(metricValue(text, 'ssehub_publish_to_write_seconds_count')).toBe(2);
    expect(metricValue(text, 'ssehub_connections')).toBeUndefined();
  });

  it('matches samples by labels whatever their order', async () => {
    const registry = (labels: Record<string, string>) => [{ name: 'x_total', help: 'x', type: 'counter', aggregator: 'sum', values: [{ value: 1, labels }] }] as unknown as Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
    const sum = addSamples(registry({ a: '1', b: '2' }), registry({ b: '2', a: '1' }));
    expect(sum[0]!.values).toEqual([{ value: 2, labels: { a: '1', b: '2' } }]);
  });
});
