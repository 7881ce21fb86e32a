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

/** What NATS_URL's userinfo says, taken off the URLs: the `nats` client ignores credentials in a URL. */
export interface NatsAuth {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * `nats://user:pass@host:port` becomes user and password options, `nats://token@host:port` a token
 * (as the NATS CLI reads them). The first URL that carries credentials names them for the connection:
 * the client has one set of credentials for every server of a cluster.
 */
export function natsAuth(servers: readonly string[]): NatsAuth {
  let auth: Omit<NatsAuth, 'servers'> = {};
  let found = false;
  const bare = servers.map((server) => {
    const at = server.lastIndexOf('@');
    if (at === -1) return server;
    const scheme = server.indexOf('://');
    const start = scheme === -1 ? 0 : scheme + 3;
    const userinfo = server.slice(start, at);
    if (!found) {
      found = true;
      const colon = userinfo.indexOf(':');
      auth = colon === -1 ? { token: decodeURIComponent(userinfo) } : { user: decodeURIComponent(userinfo.slice(0, colon)), pass: decodeURIComponent(userinfo.slice(colon + 1)) };
    }
    return server.slice(0, start) + server.slice(at + 1);
  });
  return { servers: bare, ...auth };
}

export function connectNats(options: NatsBusConnectionOptions, name: string): Promise<NatsConnection> {
  return connect({
    ...natsAuth(options.servers),
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
