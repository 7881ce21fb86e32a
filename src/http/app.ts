/** The HTTP edge: routes only. Each route's logic lives in its own file. */
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { eventsHandler } from './events.js';
import { publishHandler } from './publish.js';
import { healthHandler, metricsHandler, readyHandler } from './health.js';
import { mountBrowserRoutes } from './browser.js';
import { errorResponse } from './respond.js';
import { corsMiddleware } from './cors.js';
import { requestGuard } from './request-guard.js';
import { createGuards } from './guards.js';

export function createApp(hub: Hub, config: Config, log: Logger): Hono<{ Bindings: HttpBindings }> {
  const subjects = new SubjectSpace(config.subjectPrefix);
  const app = new Hono<{ Bindings: HttpBindings }>();
  const guards = createGuards(config, log);

  const cors = corsMiddleware(config, hub.metrics);
  if (cors) app.use(cors);
  app.use(requestGuard(config, hub.metrics));
  app.get('/events', eventsHandler(hub, config, subjects, log, guards));
  app.post('/publish', publishHandler(hub, config, subjects, log, guards));
  app.get('/healthz', healthHandler());
  app.get('/readyz', readyHandler(hub));
  app.get('/metrics', metricsHandler(hub));
  mountBrowserRoutes(app, hub, config, log);

  app.notFound((c) => errorResponse(c, new HubError(ErrorCode.NotFound, 404, `no route for ${c.req.method} ${c.req.path}`), hub.metrics));
  app.onError((err, c) => {
    if (err instanceof HubError) return errorResponse(c, err, hub.metrics);
    log.error({ err }, 'request failed');
    return errorResponse(c, new HubError(ErrorCode.Internal, 500, 'internal error'), hub.metrics);
  });
  return app;
}
