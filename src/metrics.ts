/**
 * The hub's Prometheus metrics. No per-topic labels: topic counts are unbounded, label sets must not be.
 * Hot-path counters are bumped once per event (with the recipient count), never once per recipient.
 *
 * With HUB_WORKERS > 1 a scrape answers for the whole pod: the primary adds up every worker's
 * registry (src/pod-metrics.ts), each metric by its `aggregator`. Counters and histograms are summed
 * (prom-client's default): the pod opened, received and delivered what its workers did together.
 * Each gauge says below how it combines, and why.
 */
import { type Aggregator, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The names the demo's figures read back from a registry (its own or the pod's), besides their definitions below. */
export const FigureMetric = {
  busConnected: 'ssehub_bus_connected',
  connections: 'ssehub_connections',
  busSubscriptions: 'ssehub_bus_subscriptions',
  eventsPublished: 'ssehub_events_published_total',
  eventsReceived: 'ssehub_events_received_total',
  eventsDelivered: 'ssehub_events_delivered_total',
  bytesWritten: 'ssehub_bytes_written_total',
} as const;

const DEFAULT_METRICS_PREFIX = 'ssehub_';

/**
 * prom-client's default metrics whose pod value is not the sum of the workers' (the rest, CPU,
 * memory and heap, add up to the pod's use, which is what its resource limits count).
 */
const DEFAULT_METRIC_AGGREGATORS: Readonly<Record<string, Aggregator>> = {
  // The worst worker, not the average (prom-client averages these): a stream on a stalled worker
  // waits however idle the others are, and an average over N workers hides one stuck worker.
  nodejs_eventloop_lag_seconds: 'max',
  nodejs_eventloop_lag_mean_seconds: 'max',
  nodejs_eventloop_lag_stddev_seconds: 'max',
  nodejs_eventloop_lag_p50_seconds: 'max',
  nodejs_eventloop_lag_p90_seconds: 'max',
  nodejs_eventloop_lag_p99_seconds: 'max',
  // The file descriptor limit is per process: an open/max alert must see the worker nearest its limit.
  process_open_fds: 'max',
  process_max_fds: 'min',
  // The youngest worker's start, so a worker restart shows (prom-client leaves this out of a pod's answer).
  process_start_time_seconds: 'max',
};

export class HubMetrics {
  readonly registry = new Registry();

  readonly connectionsOpened = new Counter({ name: 'ssehub_connections_opened_total', help: 'Event streams opened.', registers: [this.registry] });
  readonly connectionsClosed = new Counter({
    name: 'ssehub_connections_closed_total',
    help: 'Event streams closed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({ name: FigureMetric.eventsPublished, help: 'Events accepted by POST /publish.', registers: [this.registry] });
  readonly eventsReceived = new Counter({ name: FigureMetric.eventsReceived, help: 'Events received from the bus and fanned out.', registers: [this.registry] });
  readonly eventsDelivered = new Counter({ name: FigureMetric.eventsDelivered, help: 'Event frames queued to subscribers (live and replayed).', registers: [this.registry] });
  /** Poison from the bus (src/bus/nats-message.ts): `reason` is a PoisonReason, a fixed set. */
  readonly eventsRejected = new Counter({
    name: 'ssehub_bus_events_rejected_total',
    help: 'Bus messages dropped by the poison rules (docs/nats.md), by reason: headers-too-large, unreadable-headers, too-large, several-event-types, bad-event-type.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly eventsRepaired = new Counter({
    name: 'ssehub_bus_events_repaired_total',
    help: 'Bus messages delivered after being made safe, by reason: not-utf8 (bad bytes sent as U+FFFD).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly bytesWritten = new Counter({ name: FigureMetric.bytesWritten, help: 'Bytes of event frames queued to subscribers.', registers: [this.registry] });
  readonly slowConsumers = new Counter({ name: 'ssehub_slow_consumer_closes_total', help: 'Streams closed because their unsent bytes passed HUB_MAX_BUFFERED_BYTES.', registers: [this.registry] });
  readonly replaysServed = new Counter({ name: 'ssehub_replays_served_total', help: 'Resumes answered from the replay buffer without loss.', registers: [this.registry] });
  readonly resetsSent = new Counter({ name: 'ssehub_resets_sent_total', help: 'hub.reset events sent.', labelNames: ['reason'] as const, registers: [this.registry] });
  /**
   * Observed once per event that reached at least one stream, not once per recipient: from the bus
   * handing the event to the hub until every recipient's frame was handed to its socket (or queued
   * behind backpressure). Event-loop lag is exported beside it by the default metrics
   * (ssehub_nodejs_eventloop_lag_*); this one adds the fan-out's own cost.
   */
  readonly publishToWrite = new Histogram({
    name: 'ssehub_publish_to_write_seconds',
    help: 'Time from an event arriving from the bus to its frames being written to every subscribed stream (once per event).',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'ssehub_reloads_total',
    help: 'Configuration reloads (SIGHUP, a watched file changed), by result: applied (a live value changed), unchanged, refused (invalid; the configuration in force was kept).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly requestsRejected = new Counter({
    name: 'ssehub_requests_rejected_total',
    help: 'Requests refused with a 4xx/5xx error, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(gauges: { connections: () => number; busSubscriptions: () => number; replayEvents: () => number; replayBytes: () => number; busConnected: () => boolean }) {
    const gauge = (name: string, help: string, aggregator: Aggregator, read: () => number): void => {
      new Gauge({ name, help, aggregator, registers: [this.registry], collect() { this.set(read()); } });
    };
    gauge(FigureMetric.connections, 'Open event streams.', 'sum', gauges.connections);
    // Each worker holds its own subscriptions on NATS: the pod holds their sum.
    gauge(FigureMetric.busSubscriptions, 'Bus subscriptions held (one per distinct topic pattern, lingering ones included).', 'sum', gauges.busSubscriptions);
    // HUB_REPLAY_MAX_EVENTS and _BYTES bound each worker's buffer on its own: the fullest one is what
    // those limits are compared with (the pod's memory is ssehub_process_resident_memory_bytes).
    gauge('ssehub_replay_events', 'Events held in the replay buffer.', 'max', gauges.replayEvents);
    gauge('ssehub_replay_bytes', 'Bytes held in the replay buffer.', 'max', gauges.replayBytes);
    // 1 only while every worker is connected: a worker cut off from the bus fails its own streams
    // however well the others do, and an alert on == 0 must fire for it.
    gauge(FigureMetric.busConnected, '1 while the bus is connected.', 'min', () => (gauges.busConnected() ? 1 : 0));
    collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
    for (const [name, aggregator] of Object.entries(DEFAULT_METRIC_AGGREGATORS)) {
      // prom-client takes no aggregator option for its default metrics; each keeps it as a plain field.
      const metric = this.registry.getSingleMetric(DEFAULT_METRICS_PREFIX + name) as { aggregator: Aggregator } | undefined;
      if (metric) metric.aggregator = aggregator;
    }
  }
}

/** The figures /demo/stats shows, read from a registry: this hub's own, or the pod's (src/pod-metrics.ts). */
export type HubFigures = Omit<Record<keyof typeof FigureMetric, number>, 'busConnected'> & { readonly busConnected: boolean };

export async function readFigures(registry: Registry): Promise<HubFigures> {
  const total = async (name: string): Promise<number> => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  const figures = Object.fromEntries(await Promise.all(Object.entries(FigureMetric).map(async ([key, name]) => [key, await total(name)] as const)));
  return { ...(figures as Record<keyof typeof FigureMetric, number>), busConnected: figures.busConnected === 1 };
}
