/**
 * The metrics the dashboard (deploy/grafana/ssehub-dashboard.json) is built on are exported:
 * publish-to-write latency once per event, event-loop lag from the default metrics.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { publish, startTestHub } from '../helpers/hub.js';
import { metricValue, parseMetrics, scrapeMetrics } from '../helpers/metrics.js';
import { Subscriber } from '../helpers/sse-client.js';

describe('metrics', () => {
  it('observe publish-to-write once per delivered event, not per recipient, and export event-loop lag', async () => {
    await using hub = await startTestHub();
    const subs = [new Subscriber(hub.url, ['m.1']), new Subscriber(hub.url, ['m.1']), new Subscriber(hub.url, ['m.*'])];
    try {
      await Promise.all(subs.map((s) => s.open()));
      for (let i = 0; i < 4; i++) await publish(hub.url, 'm.1', `e${i}`);
      await publish(hub.url, 'nobody.listens', 'x');
      await Promise.all(subs.map((s) => s.waitForMessages(4)));
      const text = await scrapeMetrics(hub.url);
      expect(metricValue(text, 'ssehub_publish_to_write_seconds_count')).toBe(4);
      expect(metricValue(text, 'ssehub_publish_to_write_seconds_bucket', { le: '+Inf' })).toBe(4);
      expect(metricValue(text, 'ssehub_events_delivered_total')).toBe(12);
      const buckets = parseMetrics(text).samples.filter((s) => s.name === 'ssehub_publish_to_write_seconds_bucket');
      expect(buckets.filter((s) => JSON.stringify(s.labels).includes('topic'))).toEqual([]); // no label name or value
      for (const name of ['ssehub_nodejs_eventloop_lag_seconds', 'ssehub_nodejs_eventloop_lag_p99_seconds', 'ssehub_process_open_fds']) {
        expect(metricValue(text, name), name).toBeGreaterThanOrEqual(0);
      }
    } finally {
      for (const s of subs) s.close();
    }
  });

  it('a single-process hub answers from its own registry: the same metrics, no cluster figures, its own counts', async () => {
    await using hub = await startTestHub();
    const sub = new Subscriber(hub.url, ['m.1']);
    try {
      await sub.open();
      const text = await scrapeMetrics(hub.url);
      const exported = [...parseMetrics(text).types.keys()].sort();
      const own = hub.hub.metrics.registry.getMetricsAsArray().map((m) => m.name).sort();
      expect(exported).toEqual(own);
      expect(exported.filter((name) => name.startsWith('ssehub_cluster_'))).toEqual([]);
      expect(metricValue(text, 'ssehub_connections_opened_total')).toBe(1);
      expect(metricValue(text, 'ssehub_connections')).toBe(1);
      const stats = (await (await fetch(`${hub.url}/demo/stats`, { signal: AbortSignal.timeout(5000) })).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ bus: 'memory', connections: 1, busConnected: true });
    } finally {
      sub.close();
    }
  });

  it('the Grafana dashboard queries only metrics the hub exports', async () => {
    await using hub = await startTestHub();
    const exported = new Set([...parseMetrics(await scrapeMetrics(hub.url)).types].flatMap(([name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : type === 'summary' ? [name, `${name}_sum`, `${name}_count`] : [name],
    ));
    const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/ssehub-dashboard.json', import.meta.url), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(5);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(ssehub_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    const missing = [...used].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });
});
