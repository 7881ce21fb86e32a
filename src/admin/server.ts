/**
 * The admin listener (HUB_ADMIN_PORT; docs/operations.md): profiling and runtime figures of a live
 * hub, on its own port so the public one never serves them, and apart from the Hono app so a stuck
 * main app does not take the tools to look at it down too. Plain node:http: a few GET routes, the
 * heap snapshot written straight to the response as V8 produces it, and the charts page (charts.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { asHubError, errorAnswer } from '../http/respond.js';
import { asUrlHost, listen } from '../listen.js';
import { adminAccess } from './access.js';
import { HeapSnapshotter } from './heap.js';
import { adminStats, pageFiles, sendPageFile } from './charts.js';
import { CpuProfiler, profileSeconds } from './profile.js';
import { collectStats, RuntimeMonitor } from './stats.js';

export interface AdminServer {
  readonly port: number;
  /** http://host:port of the admin listener. */
  readonly url: string;
  /** Ends a profile in progress, closes every admin connection and the listener. */
  close(): Promise<void>;
}

interface AdminDeps {
  readonly hub: Hub;
  readonly log: Logger;
  readonly monitor: RuntimeMonitor;
  readonly profiler: CpuProfiler;
  readonly heap: HeapSnapshotter;
  /** Aborts when the admin listener closes: a profile in progress stops early. */
  readonly stopping: AbortSignal;
}

type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL, deps: AdminDeps) => Promise<void>;

/** The route table. Every route needs the admin token (or loopback); the page's own files do not (below). */
const ROUTES: Readonly<Record<string, AdminHandler>> = {
  '/debug/profile': profileRoute,
  '/debug/heap': heapRoute,
  '/debug/stats': statsRoute,
  '/admin/stats': chartStatsRoute,
};

export async function startAdminServer(config: Config, hub: Hub, log: Logger): Promise<AdminServer | undefined> {
  if (config.adminPort === undefined) return undefined;
  const stop = new AbortController();
  const deps: AdminDeps = { hub, log, monitor: new RuntimeMonitor(), profiler: new CpuProfiler(), heap: new HeapSnapshotter(), stopping: stop.signal };
  const checkAccess = adminAccess(config.adminToken);
  // The charts page's HTML, script and styles hold no figure of the hub (they are the repository's
  // files), and a browser cannot send a bearer token with a page load: they are served to anyone who
  // reaches the listener, and the page sends the token (asked of its user) with each /admin/stats.
  const page = pageFiles();

  const server: Server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => sendError(res, asHubError(err, log), hub));
  });
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const file = page.get(url.pathname);
    if (file && req.method === 'GET') {
      if (!file.body) throw new HubError(ErrorCode.NotFound, `the admin page's files are missing from client/admin/ (${url.pathname})`);
      return sendPageFile(res, file.body, file.type);
    }
    checkAccess(req);
    const route = ROUTES[url.pathname];
    if (!route) throw new HubError(ErrorCode.NotFound, `no admin route ${url.pathname}`);
    if (req.method !== 'GET') throw new HubError(ErrorCode.MethodNotAllowed, 'admin routes answer GET only');
    await route(req, res, url, deps);
  }

  const port = await listen(server, config.adminPort, config.adminHost);
  log.info({ host: config.adminHost, port, token: config.adminToken !== undefined }, 'admin listener on');

  return {
    port,
    url: `http://${asUrlHost(config.adminHost)}:${port}`,
    async close() {
      stop.abort();
      deps.monitor.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function profileRoute(req: IncomingMessage, res: ServerResponse, url: URL, { profiler, stopping, log }: AdminDeps): Promise<void> {
  const seconds = profileSeconds(url.searchParams.get('seconds'));
  // A client that hangs up gets no profile; stop sampling then rather than after `seconds`.
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  log.info({ seconds }, 'CPU profile started');
  const profile = await profiler.take(seconds, AbortSignal.any([gone.signal, stopping]));
  log.info({ seconds, samples: profile.samples?.length ?? 0 }, 'CPU profile taken');
  if (res.destroyed) return;
  const body = JSON.stringify(profile);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Content-Disposition': `attachment; filename="${fileName('ssehub', 'cpuprofile')}"`,
  });
  res.end(body);
}

async function heapRoute(_req: IncomingMessage, res: ServerResponse, _url: URL, { heap, log }: AdminDeps): Promise<void> {
  // No Content-Length: the size is known only at the end, so the body goes chunked.
  const begin = (): void => {
    log.info('heap snapshot started');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': `attachment; filename="${fileName('ssehub', 'heapsnapshot')}"` });
  };
  await heap.writeTo(res, begin);
  res.end();
  log.info('heap snapshot written');
}

async function statsRoute(_req: IncomingMessage, res: ServerResponse, _url: URL, { hub, monitor }: AdminDeps): Promise<void> {
  const body = JSON.stringify(await collectStats(hub, monitor));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

async function chartStatsRoute(_req: IncomingMessage, res: ServerResponse, _url: URL, { hub }: AdminDeps): Promise<void> {
  const body = JSON.stringify(await adminStats(hub));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function sendError(res: ServerResponse, err: HubError, hub: Hub): void {
  if (res.headersSent) return void res.destroy();
  const answer = errorAnswer(err, hub.metrics);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** `ssehub-<pid>-<time>.<ext>`: names that tell apart the files of several hubs and several runs. */
function fileName(prefix: string, ext: string): string {
  return `${prefix}-${process.pid}-${new Date().toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.${ext}`;
}
