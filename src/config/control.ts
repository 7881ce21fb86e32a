/**
 * Settings of the control channel (src/control/): how long a node waits for another node's answer,
 * and how often each node says it is alive, which bounds how long a dead node is still waited for.
 */
import { ConfigError } from '../errors.js';
import { checkTopic } from '../topics/subject.js';
import { HOUR_MS, int, list, NONE } from './parsers.js';
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

/** Join and leave events (src/control/presence-events.ts). */
export const presenceRows = {
  presenceEvents: setting({
    env: 'HUB_PRESENCE_EVENTS',
    default: NONE,
    parse: list((patterns, variable) => {
      for (const pattern of patterns) {
        const problem = checkTopic(pattern, { maxLength: 4096, allowWildcards: true });
        if (problem) throw new ConfigError(variable, `holds a bad topic pattern: ${problem.message}`);
      }
    }),
    doc: 'topic patterns whose literal topics get `hub.join` / `hub.leave` events when a user\'s first stream on them opens or the last one has been gone for the grace period',
  }),
  presenceLeaveGraceMs: setting({
    env: 'HUB_PRESENCE_LEAVE_GRACE_MS',
    default: 5000,
    parse: int(0, HOUR_MS),
    doc: 'how long a user\'s last stream on a topic must stay gone before `hub.leave`; a reconnect within it gives neither event',
  }),
};

export type ControlConfig = ValuesOf<typeof controlRows> & ValuesOf<typeof presenceRows>;
