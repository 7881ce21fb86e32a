/**
 * The key every publish carries (`Nats-Msg-Id`), so a publisher who never heard the answer can retry
 * safely. One the hub makes is this process's random prefix and a counter: unique within any
 * de-duplication window without coordination between hubs (96 random bits per process), at the
 * cost of a string concatenation, where 16 random bytes per publish cost a crypto call each (7 % of
 * the hub's CPU under the publish-path benchmark, docs/performance.md).
 */
import { randomBytes } from 'node:crypto';

/** What a client may send as `Nats-Msg-Id` / `Idempotency-Key`. */
const CLIENT_MSG_ID = /^[\x21-\x7e]{1,128}$/;

export function isValidMsgId(key: string): boolean {
  return CLIENT_MSG_ID.test(key);
}

export class MsgIdSource {
  private readonly prefix = randomBytes(12).toString('base64url') + '-';
  private count = 0;

  next(): string {
    return this.prefix + (++this.count).toString(36);
  }
}

/**
 * The key of event `index` of a batch published under `key`: a retried batch gives each event the
 * key it had the first time, so JetStream stores each once.
 */
export function batchMsgId(key: string, index: number): string {
  return `${key}:${index}`;
}
