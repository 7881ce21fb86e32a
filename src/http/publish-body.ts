/**
 * Reading a publish body, bounded, straight from Node's request: going through the web Request
 * would build a ReadableStream and a Request object for every publish, which costs more than the
 * rest of the publish together.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, HubError } from '../errors.js';

/** The request ended before its body did (Node destroys the request when its connection closes). */
export class BodyLost {
  constructor(readonly cause: Error) {}
}

/** Read at most `limit` bytes of body; a longer one (by Content-Length or by counting) is a 413. */
export function readBody(incoming: IncomingMessage, limit: number, what = 'the payload'): Promise<Uint8Array | HubError | BodyLost> {
  const tooLarge = () => new HubError(ErrorCode.PayloadTooLarge, `${what} is larger than ${limit} bytes`);
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
