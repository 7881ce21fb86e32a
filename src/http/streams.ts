/**
 * POST /streams/<id>/topics {"key", "add", "remove"}: change an open stream's topics without
 * reconnecting (docs/protocol.md). Any node takes the request: the topics are checked and
 * authorized here, with the credentials a subscription would present, then the node that holds
 * the stream (named by its id) is asked over the control channel, checks the key and applies it.
 */
import type { Context } from 'hono';
import { Action } from '../auth/access.js';
import { ErrorCode, HubError } from '../errors.js';
import type { TopicChange } from '../hub/hub.js';
import { nodeOfStream } from '../hub/live-stream.js';
import { clientAddress } from '../limits/client-address.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { readTopicChange } from './json-body.js';
import { errorResponse } from './respond.js';

export function streamTopicsHandler({ hub, config, guards, control }: HttpDeps) {
  return async (c: Context<HttpEnv>): Promise<Response> => {
    const refuse = (err: HubError) => errorResponse(c, err, hub.metrics);
    const id = c.req.param('id') ?? '';
    const node = nodeOfStream(id);
    // Not an id this hub makes: no stream has it, wherever the request went.
    if (node === undefined) return refuse(new HubError(ErrorCode.StreamNotFound, `no open stream has the id ${JSON.stringify(id.slice(0, 64))}`));
    const body = await readTopicChange(c.env.incoming, config);
    if (body instanceof HubError) return refuse(body);
    const { key } = body.fields;
    if (typeof key !== 'string' || key === '') return refuse(new HubError(ErrorCode.BadRequest, '"key" must be the stream\'s key, as its hub.open event gave it'));
    if (body.add.length > 0) {
      const remote = clientAddress(c.env.incoming.socket.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxyHops);
      const permit = await guards.access.authorize(c.req, Action.Subscribe, body.add, remote);
      if (permit instanceof HubError) return refuse(permit);
    }
    if (!hub.bus.isConnected()) return refuse(new HubError(ErrorCode.BusUnavailable, 'the bus is not connected; retry later'));
    const answer = await control.ask(node, { op: 'stream-topics', stream: id, key, add: body.add, remove: body.remove }).catch((err: unknown) => err);
    if (answer instanceof HubError) return refuse(answer);
    if (answer instanceof Error) throw answer;
    const { topics, id: position } = answer as TopicChange;
    return c.json({ topics, id: position });
  };
}
