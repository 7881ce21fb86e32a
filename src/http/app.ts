/** The Hono app: every route but the event streams' usual path (src/http/edge.ts). Each route's logic lives in its own file. */
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import type { StreamListener } from './events.js';
import { publishHandler } from './publish.js';
import { healthHandler, metricsHandler, readyHandler } from './health.js';
import { mountBrowserRoutes } from './browser.js';
import { asHubError, errorResponse } from './respond.js';
import { corsMiddleware } from './cors.js';
import { requestGuard } from './request-guard.js';
import type { Guards } from './guards.js';
import { NodeRequestFields } from './node-request.js';

export function createApp(hub: Hub, config: Config, log: Logger, guards: Guards, subjects: SubjectSpace, events: StreamListener): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();

  if (guards.cors) app.use(corsMiddleware(guards.cors, hub.metrics));
  app.use(requestGuard(guards.query, hub.metrics));
  // Streams arrive here only when their path is spelled in a way Hono normalizes (`/%65vents`,
  // `/x/../events`): the same handler then answers, after the same middleware.
  app.get('/events', async (c) => {
    await events(new NodeRequestFields(c.env.incoming), c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  });
  app.post('/publish', publishHandler(hub, config, subjects, log, guards));
  app.get('/healthz', healthHandler());
  app.get('/readyz', readyHandler(hub));
  app.get('/metrics', metricsHandler(hub));
  mountBrowserRoutes(app, hub, config, log);

  app.notFound((c) => errorResponse(c, new HubError(ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`), hub.metrics));
  app.onError((err, c) => errorResponse(c, asHubError(err, log), hub.metrics));
  return app;
}
