/**
 * POST /publish?topic=T[&event=TYPE]: body is the payload, UTF-8 text up to HUB_MAX_EVENT_BYTES.
 * Each publish has a key (`Nats-Msg-Id` or `Idempotency-Key`, else one the hub makes), returned as
 * `msgId`: in JetStream mode a retry under it is stored once.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { BusPublishError, ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkTopic } from '../topics/subject.js';
import { checkEventType } from '../sse/frame.js';
import { Action } from '../auth/access.js';
import { clientAddress } from '../limits/client-address.js';
import type { HttpDeps, HttpEnv } from './deps.js';
import { errorResponse } from './respond.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function publishHandler({ hub, config, subjects, log, guards }: HttpDeps) {
  const rules = { maxLength: config.maxTopicLength, allowWildcards: false };

  return async (c: Context<HttpEnv>): Promise<Response> => {
    const refuse = (err: HubError, headers?: Record<string, string>) => errorResponse(c, err, hub.metrics, headers);
    const topics = c.req.queries('topic') ?? [];
    if (topics.length !== 1) return refuse(new HubError(ErrorCode.NoTopic, 'exactly one topic is required: /publish?topic=orders.42'));
    const topic = topics[0]!;
    const topicProblem = checkTopic(topic, rules);
    if (topicProblem) {
      return refuse(topicProblem.message.includes('wildcards') ? new HubError(ErrorCode.WildcardPublish, topicProblem.message) : topicProblem);
    }
    const eventType = c.req.query('event');
    if (eventType !== undefined) {
      const problem = checkEventType(eventType, config.maxEventTypeLength);
      if (problem) return refuse(new HubError(ErrorCode.BadEventType, `event type ${JSON.stringify(eventType.slice(0, 64))}: ${problem}`));
    }

    const msgId = c.req.header('nats-msg-id') ?? c.req.header('idempotency-key');
    if (msgId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(msgId)) {
      return refuse(new HubError(ErrorCode.BadMsgId, 'Nats-Msg-Id / Idempotency-Key must be 1-128 visible ASCII characters'));
    }

    const permit = await guards.access.authorize(c.req, Action.Publish, [topic]);
    if (permit instanceof HubError) return refuse(permit);
    // Checked before the body is read: a flood costs the hub one map lookup per request.
    const rateKey = permit.principal ?? `address:${clientAddress(c.env.incoming.socket.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxyHops)}`;
    const waitSec = guards.publishRate.take(rateKey);
    if (waitSec > 0) {
      return refuse(new HubError(ErrorCode.RateLimited, `publish rate above ${config.publishRate}/s (burst ${config.publishBurst}); retry in ${waitSec} s`), {
        'Retry-After': String(waitSec),
      });
    }

    const body = await readBody(c.env.incoming, config.maxEventBytes);
    if (body instanceof HubError) return refuse(body);
    // The connection is gone: the client left, or Node's parser refused the body (malformed chunked
    // framing, too slow) and client-error.ts answered it. A client's doing, with nobody left to tell.
    if (body instanceof BodyLost) {
      log.debug({ err: body.cause }, 'publish body did not arrive; nothing was published');
      return RESPONSE_ALREADY_SENT;
    }
    try {
      utf8.decode(body);
    } catch {
      return refuse(new HubError(ErrorCode.BadPayload, 'the body is not valid UTF-8 text'));
    }

    // Every publish carries a key, so that a publisher who never heard the answer can retry safely.
    const key = msgId ?? newMsgId();
    let id: string | undefined;
    try {
      ({ id } = await hub.publish(subjects.toSubject(topic), body, { eventType: eventType === 'message' ? undefined : eventType, msgId: key }));
    } catch (err) {
      return refuse(publishFailure(err, key, log));
    }
    return id === undefined ? c.json({ accepted: true, msgId: key }, 202) : c.json({ id, msgId: key }, 200);
  };
}

/** 16 random bytes: unique within any de-duplication window without coordination between hubs. */
function newMsgId(): string {
  return randomBytes(16).toString('base64url');
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

/** The request ended before its body did (Node destroys the request when its connection closes). */
class BodyLost {
  constructor(readonly cause: Error) {}
}

/**
 * Read at most `limit` bytes of body; a longer one (by Content-Length or by counting) is a 413.
 * Straight from Node's request: going through the web Request would build a ReadableStream and a
 * Request object for every publish, which costs more than the rest of the publish together.
 */
function readBody(incoming: IncomingMessage, limit: number): Promise<Uint8Array | HubError | BodyLost> {
  const tooLarge = () => new HubError(ErrorCode.PayloadTooLarge, `the payload is larger than ${limit} bytes`);
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(tooLarge());
  if (incoming.readableEnded) return Promise.resolve(new Uint8Array(0));
  if (incoming.destroyed) return Promise.resolve(new BodyLost(new Error('the request closed before its body was read')));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        done();
        // Node drains what is left of the body once the response is sent.
        return resolve(tooLarge());
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      done();
      resolve(new BodyLost(err));
    };
    // A request destroyed without an error ends with 'close' alone.
    const onClose = (): void => onError(new Error('the request closed before its body ended'));
    const done = (): void => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
