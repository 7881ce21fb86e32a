/**
 * The Hono app: the middleware every request runs, then the route table. Each route's logic lives
 * in its own file; every handler is built once, at start, from the same HttpDeps.
 */
import { Hono, type Handler } from 'hono';
import { ErrorCode, HubError } from '../errors.js';
import { eventsHandler } from './events.js';
import { publishHandler } from './publish.js';
import { streamTopicsHandler } from './streams.js';
import { userTopicsHandler } from './users.js';
import { presenceHandler } from './presence.js';
import { healthHandler, metricsHandler, readyHandler } from './health.js';
import { clientScript, clientTypes, clientWorker, demoPage, demoScript, demoStats, demoStyles } from './browser.js';
import { asHubError, errorResponse } from './respond.js';
import { corsMiddleware } from './cors.js';
import { requestGuard } from './request-guard.js';
import type { HttpDeps, HttpEnv } from './deps.js';

interface Route {
  /** A GET route answers HEAD too (Hono runs it and drops the body). */
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: (deps: HttpDeps) => Handler<HttpEnv>;
  /** Served only while HUB_DEMO is on (the default). */
  readonly demo?: true;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/events', handler: eventsHandler },
  { method: 'POST', path: '/publish', handler: publishHandler },
  { method: 'POST', path: '/streams/:id/topics', handler: streamTopicsHandler },
  { method: 'POST', path: '/users/:sub/topics', handler: userTopicsHandler },
  { method: 'GET', path: '/presence', handler: presenceHandler },
  { method: 'GET', path: '/healthz', handler: healthHandler },
  { method: 'GET', path: '/readyz', handler: readyHandler },
  { method: 'GET', path: '/metrics', handler: metricsHandler },
  { method: 'GET', path: '/client/ssehub.js', handler: clientScript },
  { method: 'GET', path: '/client/ssehub.d.ts', handler: clientTypes },
  { method: 'GET', path: '/client/ssehub-worker.js', handler: clientWorker },
  { method: 'GET', path: '/', handler: demoPage, demo: true },
  { method: 'GET', path: '/demo/demo.js', handler: demoScript, demo: true },
  { method: 'GET', path: '/demo/demo.css', handler: demoStyles, demo: true },
  { method: 'GET', path: '/demo/stats', handler: demoStats, demo: true },
];

export function createApp(deps: HttpDeps): Hono<HttpEnv> {
  const { hub, config, log } = deps;
  const app = new Hono<HttpEnv>();

  app.use(corsMiddleware(deps));
  app.use(requestGuard(deps));
  for (const route of ROUTES) {
    if (!route.demo || config.demo) app.on(route.method, route.path, route.handler(deps));
  }

  app.notFound((c) => errorResponse(c, new HubError(ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`), hub.metrics));
  app.onError((err, c) => errorResponse(c, asHubError(err, log), hub.metrics));
  return app;
}
