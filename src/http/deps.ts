/**
 * What the routes and middleware work with, built once per hub by the composition root
 * (src/server.ts) and handed whole to every handler factory in the route table (src/http/app.ts).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Config } from '../config.js';
import type { LiveConfig } from '../config/live.js';
import { SubjectSpace } from '../topics/subject.js';
import type { Hub } from '../hub/hub.js';
import type { ControlChannel } from '../control/channel.js';
import type { Logger } from '../log.js';
import { createGuards, type Guards } from './guards.js';
import { StreamSockets } from './stream-socket.js';

/** Hono on Node: `c.env.incoming` and `c.env.outgoing` are Node's request and response. */
export type HttpEnv = { Bindings: HttpBindings };

export interface HttpDeps {
  readonly hub: Hub;
  /** The start configuration: what is fixed until a restart. */
  readonly config: Config;
  /** The configuration in force (`live.current`), for the settings a reload changes (config/live.ts). */
  readonly live: LiveConfig;
  readonly log: Logger;
  /** Topics as clients name them, mapped to bus subjects under HUB_SUBJECT_PREFIX. */
  readonly subjects: SubjectSpace;
  readonly guards: Guards;
  /** Requests to the node that holds a stream, or to every node (src/control/). */
  readonly control: ControlChannel;
  /** Accepted event streams' sockets, out of the HTTP server: the events handler hands them over, shutdown ends them. */
  readonly streams: StreamSockets;
}

export function createHttpDeps(hub: Hub, live: LiveConfig, log: Logger, control: ControlChannel): HttpDeps {
  const config = live.current;
  return { hub, config, live, log, subjects: new SubjectSpace(config.subjectPrefix), guards: createGuards(config, log), control, streams: new StreamSockets() };
}
