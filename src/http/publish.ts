/**
 * POST /publish, two forms:
 * - `?topic=T[&event=TYPE]`: the body is one event's payload, UTF-8 text up to HUB_MAX_EVENT_BYTES;
 * - no `topic`, `Content-Type: application/json` (an array) or `application/x-ndjson` (one per line):
 *   a batch of events `{topic, data, event?, id?}` (publish-batch.ts), checked whole before any is
 *   published, answered with one id per event in order.
 * Each event has a key (`Nats-Msg-Id` or `Idempotency-Key`, a batch event's `id` or the request's
 * key and its index, else one the hub makes), returned as `msgId`: in JetStream mode a retry under
 * it is stored once.
 *
 * The answers are written on Node's response directly: building a web Response, its Headers and
 * then copying them to Node's response cost a tenth of a publish (docs/performance.md).
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { BusPublishError, ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { Action } from '../auth/access.js';
import { clientAddress } from '../limits/client-address.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorAnswer, errorResponse } from './respond.js';
import { BodyLost, readBody } from './publish-body.js';
import { batchFormat, parseBatch, type BatchEvent } from './publish-batch.js';
import { checkPublishEventType, checkPublishTopic } from './publish-checks.js';
import { batchMsgId, isValidMsgId, MsgIdSource } from './publish-msg-id.js';
import { OVERLOAD_RETRY_AFTER_S, publishPacing } from './publish-pacing.js';
import type { PublishedEvent } from '../hub/hub.js';

const OVERLOAD_HEADERS = { 'Retry-After': String(OVERLOAD_RETRY_AFTER_S) };

export function publishHandler({ hub, config, subjects, log, guards }: HttpDeps) {
  const rules = {
    topic: { maxLength: config.maxTopicLength, allowWildcards: false },
    maxEventTypeLength: config.maxEventTypeLength,
    maxEventBytes: config.maxEventBytes,
    maxBatchEvents: config.maxBatchEvents,
  };
  const msgIds = new MsgIdSource();
  const overloaded = publishPacing(() => hub.unsentBytes(), config.maxBacklogBytes);

  return async (c: Context<HttpEnv>): Promise<Response> => {
    const { incoming, outgoing } = c.env;
    const refuse = (err: HubError, headers?: Record<string, string>) => errorResponse(c, err, hub.metrics, headers);
    const topics = c.req.queries('topic');
    const format = topics === undefined ? batchFormat(incoming.headers['content-type']) : undefined;
    if (format === undefined && topics?.length !== 1) {
      return refuse(
        new HubError(ErrorCode.NoTopic, 'exactly one topic is required: /publish?topic=orders.42 (or a batch: no topic, Content-Type application/json or application/x-ndjson)'),
      );
    }

    let single: { topic: string; eventType: string | undefined } | undefined;
    if (format === undefined) {
      const topic = topics![0]!;
      const topicProblem = checkPublishTopic(topic, rules);
      if (topicProblem) return refuse(topicProblem);
      const type = checkPublishEventType(c.req.query('event'), rules);
      if (type instanceof HubError) return refuse(type);
      single = { topic, eventType: type.eventType };
    }
    // Node's header object, not Hono's: c.req.header() builds a web Headers for the request.
    const requestKey = (incoming.headers['nats-msg-id'] ?? incoming.headers['idempotency-key']) as string | undefined;
    if (requestKey !== undefined && !isValidMsgId(requestKey)) {
      return refuse(new HubError(ErrorCode.BadMsgId, 'Nats-Msg-Id / Idempotency-Key must be 1-128 visible ASCII characters'));
    }
    if (single) {
      // A batch is authorized once its topics are known, below.
      const refusal = await admit(c, [single.topic], 1);
      if (refusal) return refusal;
    }

    const body = await readBody(incoming, single ? config.maxEventBytes : config.maxBatchBytes, single ? 'the payload' : 'the batch');
    if (body instanceof HubError) return refuse(body);
    // The connection is gone: the client left, or Node's parser refused the body (malformed chunked
    // framing, too slow) and client-error.ts answered it. A client's doing, with nobody left to tell.
    if (body instanceof BodyLost) {
      log.debug({ err: body.cause }, 'publish body did not arrive; nothing was published');
      return RESPONSE_ALREADY_SENT;
    }

    if (single) {
      // Checked in place: decoding would make a string of every payload only to drop it.
      if (!isUtf8(body)) return refuse(new HubError(ErrorCode.BadPayload, 'the body is not valid UTF-8 text'));
      const key = requestKey ?? msgIds.next();
      let published: PublishedEvent;
      try {
        published = await hub.publish(subjects.toSubject(single.topic), body, { eventType: single.eventType, msgId: key });
      } catch (err) {
        return refuse(publishFailure(err, key, log));
      }
      return published.id === undefined ? answer(outgoing, 202, `{"accepted":true,"msgId":${JSON.stringify(key)}}`) : answer(outgoing, 200, `{"id":${JSON.stringify(published.id)},"msgId":${JSON.stringify(key)}}`);
    }

    const events = parseBatch(body, format!, rules);
    if (events instanceof HubError) return refuse(events);
    const refusal = await admit(c, [...new Set(events.map((event) => event.topic))], events.length);
    if (refusal) return refusal;
    return publishBatch(outgoing, events, requestKey);
  };

  /** Authorization for every topic, the rate bucket (one token per event) and overload: a refusal, or undefined. */
  async function admit(c: Context<HttpEnv>, topics: readonly string[], count: number): Promise<Response | undefined> {
    const refuse = (err: HubError, headers?: Record<string, string>) => errorResponse(c, err, hub.metrics, headers);
    const permit = await guards.access.authorize(c.req, Action.Publish, topics);
    if (permit instanceof HubError) return refuse(permit);
    if (guards.publishRate.enabled) {
      if (count > config.publishBurst) {
        return refuse(new HubError(ErrorCode.RateLimited, `a batch of ${count} events is more than the publish burst (${config.publishBurst}): send smaller batches`));
      }
      // Checked before the body of a single publish is read: a flood costs the hub one map lookup per request.
      const rateKey = permit.principal ?? `address:${clientAddress(c.env.incoming.socket.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxyHops)}`;
      const waitSec = guards.publishRate.take(rateKey, count);
      if (waitSec > 0) {
        return refuse(new HubError(ErrorCode.RateLimited, `publish rate above ${config.publishRate}/s (burst ${config.publishBurst}); retry in ${waitSec} s`), {
          'Retry-After': String(waitSec),
        });
      }
    }
    const overload = overloaded();
    if (overload) return refuse(overload, OVERLOAD_HEADERS);
    return undefined;
  }

  async function publishBatch(outgoing: ServerResponse, events: readonly BatchEvent[], requestKey: string | undefined): Promise<Response> {
    const keys = events.map((event, index) => event.msgId ?? (requestKey === undefined ? msgIds.next() : batchMsgId(requestKey, index)));
    // All sent at once, in order: the bus keeps them in that order and has them in flight together.
    const outcomes = await Promise.allSettled(
      events.map((event, index) => hub.publish(subjects.toSubject(event.topic), event.data, { eventType: event.eventType, msgId: keys[index] })),
    );
    const failed = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    if (failed !== -1) {
      const nothing = outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof BusPublishError && outcome.reason.outcome === 'not-published');
      const first = (outcomes[failed] as PromiseRejectedResult).reason;
      if (nothing) return answerError(outgoing, new HubError(ErrorCode.BusUnavailable, `${errorMessage(first)}; nothing was published`, { cause: first }));
      log.warn({ err: first, msgId: keys[failed], events: events.length }, 'batch publish outcome unknown');
      return answerError(
        outgoing,
        new HubError(
          ErrorCode.PublishOutcomeUnknown,
          `event ${failed} and maybe others of the batch were not confirmed by the bus: some events may be published; retry the whole batch with the same Idempotency-Key (or ids) to find out`,
          { cause: first, details: { index: String(failed), msgId: keys[failed]! } },
        ),
      );
    }
    const results = outcomes.map((outcome, index) => {
      const { id } = (outcome as PromiseFulfilledResult<PublishedEvent>).value;
      return id === undefined ? { msgId: keys[index]! } : { id, msgId: keys[index]! };
    });
    const accepted = results.some((result) => !('id' in result));
    return answer(outgoing, accepted ? 202 : 200, JSON.stringify(accepted ? { accepted: true, events: results } : { events: results }));
  }

  function answerError(outgoing: ServerResponse, err: HubError): Response {
    const { status, headers, body } = errorAnswer(err, hub.metrics);
    outgoing.writeHead(status, headers);
    outgoing.end(body);
    return RESPONSE_ALREADY_SENT;
  }
}

function answer(outgoing: ServerResponse, status: number, body: string): Response {
  outgoing.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  outgoing.end(body);
  return RESPONSE_ALREADY_SENT;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * "Nothing was published" only when the bus is sure; otherwise the answer says the outcome is
 * unknown and names the key to retry under (JetStream then answers a retry with the first copy's id).
 */
function publishFailure(err: unknown, msgId: string, log: Logger): HubError {
  if (err instanceof BusPublishError && err.outcome === 'not-published') {
    return new HubError(ErrorCode.BusUnavailable, `${err.message}; nothing was published`, { cause: err });
  }
  log.warn({ err, msgId }, 'publish outcome unknown');
  return new HubError(ErrorCode.PublishOutcomeUnknown, 'the bus did not confirm the event: it may or may not be published; retry with the same Nats-Msg-Id to find out', {
    cause: err,
    details: { msgId },
  });
}
