/**
 * GET /events?topic=T[&topic=T2...][&fields=topic][&rewind=N]: open an event stream, resuming after
 * Last-Event-ID if sent, else starting with the newest N retained events when `rewind` asks.
 *
 * Refusals are ordinary Hono responses. An accepted stream's socket is taken out of Node's HTTP
 * server (stream-socket.ts) and handed to the hub, which writes the head and the stream on it; the
 * handler returns RESPONSE_ALREADY_SENT, so Hono writes nothing of its own.
 */
import type { Context } from 'hono';
import type { Config } from '../config.js';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic } from '../topics/subject.js';
import { Action } from '../auth/access.js';
import { clientAddress } from '../limits/client-address.js';
import { MAX_ID_LENGTH } from '../replay/event-id.js';
import { SSE_HEADERS } from '../sse/connection.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

/** The one field `fields=` may name: a `topic:` line in every event frame (docs/protocol.md). */
const STREAM_FIELD_TOPIC = 'topic';

// Refusals that pass with time: the answer says when to retry (the client's reconnect interval).
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ShuttingDown,
  ErrorCode.BusUnavailable,
  ErrorCode.TooManyConnections,
  ErrorCode.TooManyConnectionsFromAddress,
  ErrorCode.AuthUnavailable,
]);

export function eventsHandler({ hub, config, live, subjects, log, guards, streams }: HttpDeps) {
  const rules = { maxLength: config.maxTopicLength, allowWildcards: true };
  // HUB_RETRY_MS is live: the header follows the configuration in force, built once per configuration.
  let retryAfterFor: Config | undefined;
  let retryAfter: Record<string, string> = {};
  const retryLater = (): Record<string, string> => {
    if (live.current !== retryAfterFor) retryAfter = { 'Retry-After': String(Math.ceil((retryAfterFor = live.current).retryMs / 1000) || 1) };
    return retryAfter;
  };
  const refuse = (c: Context, err: HubError) => errorResponse(c, err, hub.metrics, RETRY_LATER.has(err.code) ? retryLater() : undefined);

  return async (c: Context<HttpEnv>): Promise<Response> => {
    const topics = c.req.queries('topic') ?? [];
    if (topics.length === 0) return refuse(c, new HubError(ErrorCode.NoTopic, 'at least one topic is required: /events?topic=orders.42'));
    if (topics.length > config.maxTopics) {
      return refuse(c, new HubError(ErrorCode.TooManyTopics, `at most ${config.maxTopics} topics per connection, got ${topics.length}`));
    }
    for (const topic of topics) {
      const problem = checkTopic(topic, rules);
      if (problem) return refuse(c, problem);
    }
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    // The hub's ids are short; a longer one is not ours, and echoing it (log, hub.reset) would cost.
    if (lastEventId !== undefined && lastEventId.length > MAX_ID_LENGTH) {
      return refuse(c, new HubError(ErrorCode.BadLastEventId, `Last-Event-ID is longer than ${MAX_ID_LENGTH} characters; this hub never sent it`));
    }
    const fields = c.req.queries('fields') ?? [];
    const unknownField = fields.flatMap((list) => list.split(',')).find((field) => field !== STREAM_FIELD_TOPIC);
    if (unknownField !== undefined) {
      return refuse(c, new HubError(ErrorCode.BadQuery, `fields: ${JSON.stringify(unknownField)} is not a field the hub adds; the one there is: ${STREAM_FIELD_TOPIC}`));
    }
    const rewindParam = c.req.query('rewind');
    const rewind = rewindParam === undefined ? 0 : Number(rewindParam);
    if (rewindParam !== undefined && !(/^\d{1,9}$/.test(rewindParam) && rewind <= config.rewindMax)) {
      return refuse(c, new HubError(ErrorCode.BadQuery, `rewind must be a whole number from 0 to ${config.rewindMax} (HUB_REWIND_MAX), got ${JSON.stringify(rewindParam)}`));
    }
    const unique = [...new Set(topics)];
    const { incoming, outgoing } = c.env;
    const remote = clientAddress(incoming.socket.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxyHops);
    const permit = await guards.access.authorize(c.req, Action.Subscribe, unique, remote);
    if (permit instanceof HubError) return refuse(c, permit);

    if (hub.isClosing) return refuse(c, new HubError(ErrorCode.ShuttingDown, 'this node is shutting down; reconnect'));
    // Before the stream starts, while the client can still be told to come back: a stream opened now
    // would wait for the bus (JetStream) or be closed when its subscription fails (core NATS).
    if (!hub.bus.isConnected()) return refuse(c, new HubError(ErrorCode.BusUnavailable, 'the bus is not connected; retry later'));
    const { maxConnections } = live.current;
    if (hub.connectionCount >= maxConnections) {
      return refuse(c, new HubError(ErrorCode.TooManyConnections, `this node holds its maximum of ${maxConnections} streams; retry later`));
    }

    const release = guards.addresses.acquire(remote);
    if (!release) {
      return refuse(c, new HubError(ErrorCode.TooManyConnectionsFromAddress, `at most ${guards.addresses.max} streams per client address`));
    }
    // A HEAD gets the head a GET would get and no stream: Node sends a HEAD response's head at
    // end(), never with a write, and Hono answers every HEAD with a head of its own.
    if (incoming.method === 'HEAD') {
      release();
      return c.body(null, 200, SSE_HEADERS);
    }
    // Undefined when the client left while its token was checked: nothing to answer.
    const stream = await streams.take(outgoing);
    if (!stream) {
      release();
      return RESPONSE_ALREADY_SENT;
    }
    // 'on', not 'once': 'close' comes once, and once() would add a wrapper per stream.
    stream.socket.on('close', release);
    const patterns = unique.map((topic) => subjects.toSubject(topic));
    hub.open({ stream, patterns, lastEventId: lastEventId || undefined, remote, expiresAt: permit.expiresAt, credential: permit.credential, user: permit.user, withTopic: fields.length > 0, rewind }).catch((err: unknown) => {
      log.error({ err }, 'event stream failed');
      stream.socket.destroy();
    });
    return RESPONSE_ALREADY_SENT;
  };
}
