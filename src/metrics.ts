/**
 * The hub's Prometheus metrics. No per-topic labels: topic counts are unbounded, label sets must not be.
 * Hot-path counters are bumped once per event (with the recipient count), never once per recipient.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class HubMetrics {
  readonly registry = new Registry();

  readonly connectionsOpened = new Counter({ name: 'ssehub_connections_opened_total', help: 'Event streams opened.', registers: [this.registry] });
  readonly connectionsClosed = new Counter({
    name: 'ssehub_connections_closed_total',
    help: 'Event streams closed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({ name: 'ssehub_events_published_total', help: 'Events accepted by POST /publish.', registers: [this.registry] });
  readonly eventsReceived = new Counter({ name: 'ssehub_events_received_total', help: 'Events received from the bus and fanned out.', registers: [this.registry] });
  readonly eventsDelivered = new Counter({ name: 'ssehub_events_delivered_total', help: 'Event frames queued to subscribers (live and replayed).', registers: [this.registry] });
  readonly eventsRejected = new Counter({ name: 'ssehub_bus_events_rejected_total', help: 'Bus messages dropped because their event type is invalid or reserved.', registers: [this.registry] });
  readonly bytesWritten = new Counter({ name: 'ssehub_bytes_written_total', help: 'Bytes of event frames queued to subscribers.', registers: [this.registry] });
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
  readonly requestsRejected = new Counter({
    name: 'ssehub_requests_rejected_total',
    help: 'Requests refused with a 4xx/5xx error, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(gauges: { connections: () => number; busSubscriptions: () => number; replayEvents: () => number; replayBytes: () => number; busConnected: () => boolean }) {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    };
    gauge('ssehub_connections', 'Open event streams.', gauges.connections);
    gauge('ssehub_bus_subscriptions', 'Bus subscriptions held (one per distinct topic pattern, lingering ones included).', gauges.busSubscriptions);
    gauge('ssehub_replay_events', 'Events held in the replay buffer.', gauges.replayEvents);
    gauge('ssehub_replay_bytes', 'Bytes held in the replay buffer.', gauges.replayBytes);
    gauge('ssehub_bus_connected', '1 while the bus is connected.', () => (gauges.busConnected() ? 1 : 0));
    collectDefaultMetrics({ register: this.registry, prefix: 'ssehub_' });
  }
}
