/**
 * The composition root: builds a running hub from a Config, each part once (bus, hub, the HTTP
 * dependencies, the Hono app, its Node listener, the HTTP server). main.ts uses it for the
 * process; tests use it to start hubs on port 0.
 */
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { redactCredentials, type Config } from './config.js';
import { settingsFrom, type SettingsSource } from './config/env-file.js';
import { LiveConfig } from './config/live.js';
import type { Logger } from './log.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory.js';
import { NatsBus } from './bus/nats.js';
import { JetStreamBus } from './bus/jetstream.js';
import { Hub } from './hub/hub.js';
import { createHttpDeps } from './http/deps.js';
import { ControlChannel } from './control/channel.js';
import { controlService } from './control/service.js';
import { PresenceEvents } from './control/presence-events.js';
import { SubjectSpace } from './topics/subject.js';
import { createApp } from './http/app.js';
import { clientErrorHandler, connectHandler, requestErrorHandler } from './http/client-error.js';
import { inTurn } from './http/in-turn.js';
import { HANDED_OVER } from './http/stream-socket.js';
import { startAdminServer, type AdminServer } from './admin/server.js';
import { asUrlHost, listen } from './listen.js';
import type { ReloadOutcome, ReloadTrigger } from './reload/reloader.js';
import { startReloading } from './reload/reloading.js';

export interface RunningHub {
  readonly hub: Hub;
  readonly server: Server;
  readonly port: number;
  /** http://host:port, with 127.0.0.1 when listening on every interface. */
  readonly url: string;
  /** The admin listener (profiles, heap snapshots, /debug/stats), when HUB_ADMIN_PORT is set. */
  readonly admin: AdminServer | undefined;
  /** Re-read the settings and apply the live ones (SIGHUP; src/reload/); a bad configuration is refused whole. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /**
   * Graceful stop: not ready, no new streams, open streams ended over HUB_DRAIN_WINDOW_MS, bus closed,
   * listener closed. Bounded by HUB_SHUTDOWN_TIMEOUT_MS.
   */
  shutdown(): Promise<void>;
}

export function createBus(config: Config, log: Logger): Bus {
  if (config.natsServers.length === 0) {
    log.info('embedded bus: single node, no NATS (set NATS_URL to run several nodes)');
    return new MemoryBus();
  }
  const servers = config.natsServers.map(redactCredentials);
  const connection = { servers: config.natsServers, pingIntervalMs: config.natsPingIntervalMs, maxPingsOut: config.natsMaxPingsOut, log };
  if (config.jetstream) {
    log.info({ servers, stream: config.jetstream.stream }, 'JetStream bus: cluster-wide ids, resume on any node');
    return new JetStreamBus({ ...connection, settings: config.jetstream });
  }
  log.info({ servers }, 'core NATS bus: ids are per node; resume works on the same node');
  return new NatsBus(connection);
}

/** `settings` is where `config` was read from, read again by every reload (default: this process's environment). */
export async function startHub(config: Config, log: Logger, settings: SettingsSource = settingsFrom(process.env)): Promise<RunningHub> {
  const bus = createBus(config, log);
  const hub = new Hub(config, bus, log);
  const live = new LiveConfig(config);
  const control = new ControlChannel(
    bus.control,
    { node: hub.node, prefix: config.subjectPrefix, timeoutMs: config.controlTimeoutMs, heartbeatMs: config.controlHeartbeatMs },
    log,
  );
  control.serve(controlService(hub));
  const presenceEvents =
    config.presenceEvents.length === 0
      ? undefined
      : new PresenceEvents({
          channel: control,
          subjects: new SubjectSpace(config.subjectPrefix),
          patterns: config.presenceEvents,
          graceMs: config.presenceLeaveGraceMs,
          sweepMs: config.controlHeartbeatMs,
          publish: (subject, data, eventType) => hub.publishHubEvent(subject, data, eventType),
          log,
        });
  if (presenceEvents) hub.watch(presenceEvents);
  const deps = createHttpDeps(hub, live, log, control);
  const app = createApp(deps);
  const headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  // Node checks those timeouts on a sweep (30 s by default), which would let a slow client live up
  // to 30 s past its deadline; sweep often enough that the deadlines mean what they say.
  const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4)));
  // Node's own answer to an HTTP/1.1 request without Host is a bare 400: request-guard.ts answers it.
  const serverOptions = { maxHeaderSize: config.maxHeaderBytes, connectionsCheckingInterval, requireHostHeader: false };
  const listener = getRequestListener(app.fetch, {
    // HTTP/1.0 does not require Host (old health checkers leave it out): such a request is served
    // as if it named the address the hub listens on.
    hostname: asUrlHost(config.host),
    errorHandler: requestErrorHandler(hub.metrics, log),
  });
  // Responses not yet finished, so shutdown can let them finish and then close every socket, idle
  // or never used, without waiting for clients to hang up. Counted once a request runs: one
  // pipelined behind a stream never does, and its response never closes. An event stream's
  // response ends here when its socket is handed over (deps.streams counts those sockets).
  let inFlight = 0;
  let settled: (() => void) | undefined;
  const server = createServer(
    serverOptions,
    inTurn((req, res) => {
      inFlight++;
      let done = false;
      const finished = (): void => {
        if (done) return;
        done = true;
        if (--inFlight === 0) settled?.();
      };
      res.once('close', finished);
      res.once(HANDED_OVER, finished);
      return listener(req, res);
    }),
  );
  // requestTimeout bounds receiving a request (headers and body), not the response: an event stream
  // (a GET, complete once its headers are in) is not cut by it. Both stop slowloris-style clients.
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = headersTimeout;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', clientErrorHandler(hub.metrics));
  server.on('connect', connectHandler(hub.metrics));

  const port = await listen(server, config.port, config.host);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info({ host: config.host, port, bus: bus.kind }, 'ssehub listening');
  const admin = await startAdminServer(config, hub, log).catch(async (err: unknown) => {
    // The hub is up and holds the bus: a start that fails must not leave it running behind.
    control.close();
    presenceEvents?.close();
    await hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  });

  const reloading = startReloading({ live, hub, guards: deps.guards, log, settings });

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => (stopping ??= stop());
  async function stop(): Promise<void> {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
    reloading.close();
    // Still listening while the hub drains: /readyz answers 503 at once so load balancers stop
    // routing here, and a reconnect that lands here anyway gets a 503 a proxy can retry elsewhere
    // (a refused connection would do too, but probes and /metrics keep answering this way).
    // server.close() would wait for open streams forever: the hub ends them first.
    control.close();
    presenceEvents?.close();
    await hub.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const drained = new Promise<void>((resolve) => (settled = resolve));
    // The hub has ended every stream; their sockets close once what was written has left.
    await Promise.race([Promise.all([inFlight > 0 ? drained : undefined, deps.streams.closed()]), deadline]);
    // Every response is finished (or the deadline passed): what is left is idle keep-alive sockets and
    // sockets that never sent a request, which server.close() would otherwise wait on, and streams
    // whose client never read their end. Stream sockets are no longer the HTTP server's to close.
    server.closeAllConnections();
    deps.streams.destroyAll();
    // Last, so the drain can still be profiled; a profile in progress ends with what it sampled.
    await Promise.race([Promise.all([closed, admin?.close()]), deadline]);
  }

  return { hub, server, port, url: `http://${asUrlHost(host)}:${port}`, admin, reload: (trigger) => reloading.reload(trigger), shutdown };
}
