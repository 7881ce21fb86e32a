/** GET /events?topic=T[&topic=T2...]: open an event stream, resuming after Last-Event-ID if sent. */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic, type SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { Action } from '../auth/access.js';
import { clientAddress } from '../limits/client-address.js';
import { MAX_ID_LENGTH } from '../replay/event-id.js';
import type { Guards } from './guards.js';
import { errorResponse } from './respond.js';

export function eventsHandler(hub: Hub, config: Config, subjects: SubjectSpace, log: Logger, guards: Guards) {
  const rules = { maxLength: config.maxTopicLength, allowWildcards: true };
  const retryAfter = { 'Retry-After': String(Math.ceil(config.retryMs / 1000) || 1) };

  return async (c: Context<{ Bindings: HttpBindings }>): Promise<Response> => {
    const topics = c.req.queries('topic') ?? [];
    const refuse = (err: HubError, headers?: Record<string, string>) => errorResponse(c, err, hub.metrics, headers);
    if (topics.length === 0) return refuse(new HubError(ErrorCode.NoTopic, 400, 'at least one topic is required: /events?topic=orders.42'));
    if (topics.length > config.maxTopics) {
      return refuse(new HubError(ErrorCode.TooManyTopics, 400, `at most ${config.maxTopics} topics per connection, got ${topics.length}`));
    }
    for (const topic of topics) {
      const problem = checkTopic(topic, rules);
      if (problem) return refuse(problem);
    }
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    // The hub's ids are short; a longer one is not ours, and echoing it (log, hub.reset) would cost.
    if (lastEventId !== undefined && lastEventId.length > MAX_ID_LENGTH) {
      return refuse(new HubError(ErrorCode.BadLastEventId, 400, `Last-Event-ID is longer than ${MAX_ID_LENGTH} characters; this hub never sent it`));
    }
    const unique = [...new Set(topics)];
    const permit = await guards.access.authorize(c, Action.Subscribe, unique);
    if (permit instanceof HubError) return refuse(permit);

    if (hub.isClosing) return refuse(new HubError(ErrorCode.ShuttingDown, 503, 'this node is shutting down; reconnect'), retryAfter);
    if (hub.connectionCount >= config.maxConnections) {
      return refuse(new HubError(ErrorCode.TooManyConnections, 503, `this node holds its maximum of ${config.maxConnections} streams; retry later`), retryAfter);
    }

    const { incoming, outgoing } = c.env;
    const remote = clientAddress(incoming.socket.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxyHops);
    const release = guards.addresses.acquire(remote);
    if (!release) {
      return refuse(new HubError(ErrorCode.TooManyConnectionsFromAddress, 429, `at most ${config.maxConnectionsPerAddress} streams per client address`), retryAfter);
    }
    // The client may have left while its token was checked: its 'close' has fired already.
    if (incoming.socket.destroyed || outgoing.destroyed) {
      release();
      return RESPONSE_ALREADY_SENT;
    }
    outgoing.once('close', release);
    const patterns = unique.map((topic) => subjects.toSubject(topic));
    hub.open({ res: outgoing, patterns, lastEventId: lastEventId || undefined, remote, expiresAt: permit.expiresAt }).catch((err: unknown) => {
      log.error({ err }, 'event stream failed');
      outgoing.destroy();
    });
    return RESPONSE_ALREADY_SENT;
  };
}
