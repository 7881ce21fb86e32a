/** GET /events?topic=T[&topic=T2...]: open an event stream, resuming after Last-Event-ID if sent. */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic, type SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { errorResponse } from './respond.js';

export function eventsHandler(hub: Hub, config: Config, subjects: SubjectSpace, log: Logger) {
  const rules = { maxLength: config.maxTopicLength, allowWildcards: true };
  const retryAfter = { 'Retry-After': String(Math.ceil(config.retryMs / 1000) || 1) };

  return (c: Context<{ Bindings: HttpBindings }>): Response => {
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
    if (hub.isClosing) return refuse(new HubError(ErrorCode.ShuttingDown, 503, 'this node is shutting down; reconnect'), retryAfter);
    if (hub.connectionCount >= config.maxConnections) {
      return refuse(new HubError(ErrorCode.TooManyConnections, 503, `this node holds its maximum of ${config.maxConnections} streams; retry later`), retryAfter);
    }

    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    const patterns = [...new Set(topics)].map((topic) => subjects.toSubject(topic));
    const { incoming, outgoing } = c.env;
    hub.open({ res: outgoing, patterns, lastEventId: lastEventId || undefined, remote: incoming.socket.remoteAddress }).catch((err: unknown) => {
      log.error({ err }, 'event stream failed');
      outgoing.destroy();
    });
    return RESPONSE_ALREADY_SENT;
  };
}
