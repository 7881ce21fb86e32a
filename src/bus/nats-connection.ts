/**
 * The NATS connection both NATS buses use: one set of options, one status watcher, one close policy.
 * `maxReconnectAttempts: -1` because the client's default gives up for good after ~20 s of outage;
 * `waitOnFirstConnect` lets a hub start before NATS and connect when it appears.
 */
import { connect, Events, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';

/** What both NATS buses are built with. */
export interface NatsBusConnectionOptions {
  /** NATS server URLs (`nats://host:port`); the client tries them all and reconnects forever. */
  readonly servers: readonly string[];
  readonly log: Logger;
}

export function connectNats(servers: readonly string[], name: string): Promise<NatsConnection> {
  return connect({
    servers: [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 2,
  });
}

export interface NatsStatusHandlers {
  disconnected(reason: string): void;
  /** After a reconnect, once a round trip shows the server has our re-sent subscriptions. */
  reconnected(reason: string): void;
}

/** Follows the connection's status until it closes, then reports it disconnected for good. */
export async function watchNats(nc: NatsConnection, handlers: NatsStatusHandlers, log: Logger, closing: () => boolean): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === Events.Disconnect) handlers.disconnected(`disconnected from ${status.data}`);
    else if (status.type === Events.Reconnect) {
      await nc.flush().catch(() => {});
      handlers.reconnected(`reconnected to ${status.data}`);
    } else if (status.type === Events.Error) log.warn({ data: status.data }, 'nats async error');
  }
  if (!closing()) log.error('nats connection closed');
  handlers.disconnected('closed');
}

/** Close for good: drain (in-flight messages are delivered, subscriptions end), or close if that fails. */
export async function closeNats(nc: NatsConnection | undefined): Promise<void> {
  if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
}
