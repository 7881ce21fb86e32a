/**
 * The NATS connection both NATS buses use: one set of options, one status watcher, one close policy.
 * `maxReconnectAttempts: -1` because the client's default gives up for good after ~20 s of outage;
 * `waitOnFirstConnect` lets a hub start before NATS and connect when it appears.
 */
import { connect, DebugEvents, Events, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';

/** What both NATS buses are built with. */
export interface NatsBusConnectionOptions {
  /** NATS server URLs (`nats://host:port`); the client tries them all and reconnects forever. */
  readonly servers: readonly string[];
  /** `HUB_NATS_PING_INTERVAL_MS`: how often the client PINGs the server. */
  readonly pingIntervalMs: number;
  /** `HUB_NATS_MAX_PINGS_OUT`: unanswered PINGs after which the connection is stale. */
  readonly maxPingsOut: number;
  readonly log: Logger;
}

export function connectNats(options: NatsBusConnectionOptions, name: string): Promise<NatsConnection> {
  return connect({
    servers: [...options.servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // A frozen or partitioned server keeps the socket open: unanswered PINGs are the only sign.
    pingInterval: options.pingIntervalMs,
    maxPingOut: options.maxPingsOut,
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
    // Said at once: the Disconnect that follows waits until the client has flushed what it wrote to the
    // dead socket, which never happens once the kernel's buffers towards a frozen server are full.
    else if (status.type === DebugEvents.StaleConnection) handlers.disconnected('stale connection: PINGs unanswered');
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
