/**
 * GET /events?topic=T[&topic=T2...]: open an event stream, resuming after Last-Event-ID if sent.
 *
 * Served on Node's request and response, without Hono: a stream needs neither a web Request nor a
 * Response, and building them (with a context and its handlers) was most of the CPU of the request
 * path per (re)connect (docs/performance.md). src/http/edge.ts sends /events here before Hono sees
 * it; the checks every route shares (CORS, the query guard, authorization, error answers) are the
 * same functions the Hono routes use.
 */
import type { ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic, type SubjectSpace } from '../bus/subject.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { Action } from '../auth/access.js';
import { clientAddress } from '../limits/client-address.js';
import { MAX_ID_LENGTH } from '../replay/event-id.js';
import type { Guards } from './guards.js';
import type { NodeRequestFields } from './node-request.js';
import { asHubError, writeError } from './respond.js';

// Refusals that pass with time: the answer says when to retry (the client's reconnect interval).
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set([ErrorCode.ShuttingDown, ErrorCode.TooManyConnections, ErrorCode.TooManyConnectionsFromAddress]);

export type StreamListener = (req: NodeRequestFields, outgoing: ServerResponse) => Promise<void>;

/**
 * The /events handler. It answers on `outgoing` itself (a stream, or a JSON error) and never
 * rejects. CORS and the query guard must have run before it (src/http/edge.ts, or Hono's middleware).
 */
export function eventsHandler(hub: Hub, config: Config, subjects: SubjectSpace, log: Logger, guards: Guards): StreamListener {
  const rules = { maxLength: config.maxTopicLength, allowWildcards: true };
  const retryAfter = { 'Retry-After': String(Math.ceil(config.retryMs / 1000) || 1) };

  async function open(req: NodeRequestFields, outgoing: ServerResponse): Promise<HubError | undefined> {
    const { incoming } = req;
    const topics = req.queries('topic') ?? [];
    if (topics.length === 0) return new HubError(ErrorCode.NoTopic, 'at least one topic is required: /events?topic=orders.42');
    if (topics.length > config.maxTopics) {
      return new HubError(ErrorCode.TooManyTopics, `at most ${config.maxTopics} topics per connection, got ${topics.length}`);
    }
    for (const topic of topics) {
      const problem = checkTopic(topic, rules);
      if (problem) return problem;
    }
    const lastEventId = req.header('last-event-id') ?? req.query('lastEventId');
    // The hub's ids are short; a longer one is not ours, and echoing it (log, hub.reset) would cost.
    if (lastEventId !== undefined && lastEventId.length > MAX_ID_LENGTH) {
      return new HubError(ErrorCode.BadLastEventId, `Last-Event-ID is longer than ${MAX_ID_LENGTH} characters; this hub never sent it`);
    }
    const unique = [...new Set(topics)];
    const permit = await guards.access.authorize(req, Action.Subscribe, unique);
    if (permit instanceof HubError) return permit;

    if (hub.isClosing) return new HubError(ErrorCode.ShuttingDown, 'this node is shutting down; reconnect');
    if (hub.connectionCount >= config.maxConnections) {
      return new HubError(ErrorCode.TooManyConnections, `this node holds its maximum of ${config.maxConnections} streams; retry later`);
    }

    const remote = clientAddress(incoming.socket.remoteAddress, req.header('x-forwarded-for'), config.trustProxyHops);
    const release = guards.addresses.acquire(remote);
    if (!release) {
      return new HubError(ErrorCode.TooManyConnectionsFromAddress, `at most ${config.maxConnectionsPerAddress} streams per client address`);
    }
    // The client may have left while its token was checked: its 'close' has fired already.
    if (incoming.socket.destroyed || outgoing.destroyed) {
      release();
      return undefined;
    }
    outgoing.once('close', release);
    const patterns = unique.map((topic) => subjects.toSubject(topic));
    hub.open({ res: outgoing, patterns, lastEventId: lastEventId || undefined, remote, expiresAt: permit.expiresAt }).catch((err: unknown) => {
      log.error({ err }, 'event stream failed');
      outgoing.destroy();
    });
    return undefined;
  }

  return async (req, outgoing) => {
    let refusal: HubError | undefined;
    try {
      refusal = await open(req, outgoing);
    } catch (err) {
      refusal = asHubError(err, log);
    }
    if (!refusal) return;
    writeError(outgoing, refusal, hub.metrics, RETRY_LATER.has(refusal.code) ? retryAfter : undefined);
  };
}
