/**
 * Settings of the control channel (src/control/): how long a node waits for another node's answer,
 * and how often each node says it is alive, which bounds how long a dead node is still waited for.
 */
import { int } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

export const controlRows = {
  // A node answers from memory in well under a millisecond plus one NATS round trip; 1 s is far
  // above a healthy answer and short enough for a request a browser or a backend waits on.
  controlTimeoutMs: setting({
    env: 'HUB_CONTROL_TIMEOUT_MS',
    default: 1000,
    parse: int(10, 60_000),
    doc: 'longest wait for other nodes\' answers (a stream\'s node for `POST /streams/<id>/topics`, every node for `POST /users/<sub>/topics` and `GET /presence`)',
  }),
  controlHeartbeatMs: setting({
    env: 'HUB_CONTROL_HEARTBEAT_MS',
    default: 2000,
    parse: int(50, 60_000),
    doc: 'how often each node tells the others it is alive; a node silent for 3 of them is no longer waited for',
  }),
};

export type ControlConfig = ValuesOf<typeof controlRows>;
