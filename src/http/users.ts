/**
 * POST /users/<sub>/topics {"add", "remove"}: a backend changes the topics of every open stream,
 * on every node, whose credential's subject is <sub> (docs/protocol.md). Every topic, added or
 * removed, must be within the caller's `manage` grants (or HUB_ANONYMOUS_MANAGE, open mode too).
 */
import type { Context } from 'hono';
import { Action } from '../auth/access.js';
import { ErrorCode, HubError } from '../errors.js';
import type { UserTopicsAnswer } from '../control/messages.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { readTopicChange } from './json-body.js';
import { errorResponse } from './respond.js';

// A token's `sub` is a string of any length (RFC 7519); this bound keeps the request small.
const MAX_USER_LENGTH = 256;

export function userTopicsHandler({ hub, config, guards, control, log }: HttpDeps) {
  return async (c: Context<HttpEnv>): Promise<Response> => {
    const refuse = (err: HubError) => errorResponse(c, err, hub.metrics);
    const user = c.req.param('sub') ?? '';
    if (user === '' || user.length > MAX_USER_LENGTH) return refuse(new HubError(ErrorCode.BadRequest, `the user must be a token subject of 1 to ${MAX_USER_LENGTH} characters`));
    const body = await readTopicChange(c.env.incoming, config);
    if (body instanceof HubError) return refuse(body);
    const permit = await guards.access.authorize(c.req, Action.Manage, [...body.add, ...body.remove]);
    if (permit instanceof HubError) return refuse(permit);
    if (!hub.bus.isConnected()) return refuse(new HubError(ErrorCode.BusUnavailable, 'the bus is not connected; retry later'));
    const answers = await control.askAll({ op: 'user-topics', user, add: body.add, remove: body.remove }).catch((err: unknown) => err as Error);
    if (answers instanceof HubError) return refuse(answers);
    if (answers instanceof Error) throw answers;
    let streams = 0;
    let unchanged = 0;
    for (const answer of answers) {
      if (!answer.ok) {
        log.warn({ node: answer.node, code: answer.code, message: answer.message }, 'a node refused a user topic change');
        continue;
      }
      const counts = answer.body as UserTopicsAnswer;
      streams += counts.streams;
      unchanged += counts.unchanged;
    }
    return c.json({ streams, unchanged, nodes: answers.length });
  };
}
