/**
 * GET /presence?topic=<literal topic>[&limit=N]: who would receive an event published on the topic
 * now, on every node (docs/protocol.md). Every node answers from memory what it holds; this node
 * adds the answers up. Each node answers once, and only a node that answers is counted, so no
 * stream counts twice and a dead node's streams are never counted.
 */
import type { Context } from 'hono';
import { Action } from '../auth/access.js';
import type { PresenceAnswer } from '../control/messages.js';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic } from '../topics/subject.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

export const DEFAULT_PRESENCE_LIMIT = 100;
export const MAX_PRESENCE_LIMIT = 1000;

export function presenceHandler({ hub, config, guards, control, subjects, log }: HttpDeps) {
  return async (c: Context<HttpEnv>): Promise<Response> => {
    const refuse = (err: HubError) => errorResponse(c, err, hub.metrics);
    const topic = c.req.query('topic');
    if (topic === undefined) return refuse(new HubError(ErrorCode.NoTopic, 'a topic is required: /presence?topic=rooms.7'));
    const problem = checkTopic(topic, { maxLength: config.maxTopicLength, allowWildcards: false });
    if (problem) return refuse(problem);
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? DEFAULT_PRESENCE_LIMIT : Number(limitText);
    if (!/^\d{1,4}$/.test(limitText ?? '0') || limit > MAX_PRESENCE_LIMIT) {
      return refuse(new HubError(ErrorCode.BadQuery, `limit must be a whole number from 0 to ${MAX_PRESENCE_LIMIT}`));
    }
    const permit = await guards.access.authorize(c.req, Action.Presence, [topic]);
    if (permit instanceof HubError) return refuse(permit);
    if (!hub.bus.isConnected()) return refuse(new HubError(ErrorCode.BusUnavailable, 'the bus is not connected; retry later'));

    const answers = await control.askAll({ op: 'presence', subject: subjects.toSubject(topic) }).catch((err: unknown) => err as Error);
    if (answers instanceof HubError) return refuse(answers);
    if (answers instanceof Error) throw answers;
    let streams = 0;
    const users = new Map<string, number>();
    for (const answer of answers) {
      if (!answer.ok) {
        log.warn({ node: answer.node, code: answer.code }, 'a node refused a presence request');
        continue;
      }
      const counts = answer.body as PresenceAnswer;
      streams += counts.streams;
      for (const [user, k] of counts.users) users.set(user, (users.get(user) ?? 0) + k);
    }
    const sorted = [...users.keys()].sort();
    const members = sorted.slice(0, limit).map((user) => ({ user, streams: users.get(user)! }));
    return c.json({ topic, streams, users: users.size, members, truncated: sorted.length > limit });
  };
}
