/**
 * What the routes and middleware work with, built once per hub by the composition root
 * (src/server.ts) and handed whole to every handler factory in the route table (src/http/app.ts).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Config } from '../config.js';
import { SubjectSpace } from '../topics/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { createGuards, type Guards } from './guards.js';
import { StreamSockets } from './stream-socket.js';

/** Hono on Node: `c.env.incoming` and `c.env.outgoing` are Node's request and response. */
export type HttpEnv = { Bindings: HttpBindings };

export interface HttpDeps {
  readonly hub: Hub;
  readonly config: Config;
  readonly log: Logger;
  /** Topics as clients name them, mapped to bus subjects under HUB_SUBJECT_PREFIX. */
  readonly subjects: SubjectSpace;
  readonly guards: Guards;
  /** Accepted event streams' sockets, out of the HTTP server: the events handler hands them over, shutdown ends them. */
  readonly streams: StreamSockets;
}

export function createHttpDeps(hub: Hub, config: Config, log: Logger): HttpDeps {
  return { hub, config, log, subjects: new SubjectSpace(config.subjectPrefix), guards: createGuards(config, log), streams: new StreamSockets() };
}
