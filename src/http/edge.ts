/**
 * The hub's request listener. `GET /events` (and HEAD) is served here on Node's request and
 * response; every other request goes through the Hono app. A stream thus never builds a web
 * Request, Hono context or middleware chain, which cost about 27 µs of CPU of the 38 µs the request
 * path took per (re)connect (docs/performance.md, "Event streams skip Hono").
 * The checks run in the order Hono's middleware runs them: CORS, the query guard, then the route.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Config } from '../config.js';
import { SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { createApp } from './app.js';
import { eventsHandler } from './events.js';
import { createGuards } from './guards.js';
import { NodeRequestFields } from './node-request.js';
import { writeError } from './respond.js';

const EVENTS_PATH = '/events';

/** The route Hono would pick for the plain spelling of the path; anything unusual goes to Hono. */
function isEventStream(incoming: IncomingMessage): boolean {
  // HEAD too, as Hono's router does for a GET route (Node then sends no body).
  if (incoming.method !== 'GET' && incoming.method !== 'HEAD') return false;
  const url = incoming.url ?? '';
  return url.startsWith(EVENTS_PATH) && (url.length === EVENTS_PATH.length || url.charCodeAt(EVENTS_PATH.length) === 0x3f /* ? */);
}

export function createRequestListener(hub: Hub, config: Config, log: Logger): RequestListener {
  const subjects = new SubjectSpace(config.subjectPrefix);
  const guards = createGuards(config, log);
  const events = eventsHandler(hub, config, subjects, log, guards);
  const viaHono = getRequestListener(createApp(hub, config, log, guards, subjects, events).fetch);

  return (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    if (!isEventStream(incoming)) {
      void viaHono(incoming, outgoing);
      return;
    }
    const req = new NodeRequestFields(incoming);
    // A GET or HEAD is never a preflight, so CORS only sets headers here.
    guards.cors?.(req.header('origin'), false, outgoing);
    const problem = guards.query(incoming.url!);
    if (problem) return writeError(outgoing, problem, hub.metrics);
    void events(req, outgoing);
  };
}
