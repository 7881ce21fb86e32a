/**
 * Publishes bytes to a real nats-server over a plain TCP socket, in the protocol's own words (CONNECT,
 * PUB, HPUB, PING), so a test can send what no well-behaved client library would: header values with
 * a lone CR or LF, thousands of headers, duplicate headers. Resolves once the server answered the
 * PING sent after them, that is, once it has read and routed every message (in the order given).
 */
import { connect } from 'node:net';
import { withTimeout } from './wait.js';

export interface RawNatsMessage {
  readonly subject: string;
  readonly payload: Uint8Array | string;
  /** Header lines after `NATS/1.0`, sent as they are (each followed by CRLF). */
  readonly headerLines?: readonly string[];
}

function encode({ subject, payload, headerLines }: RawNatsMessage): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  if (headerLines === undefined) return Buffer.concat([Buffer.from(`PUB ${subject} ${body.length}\r\n`), body, Buffer.from('\r\n')]);
  const head = Buffer.from(`NATS/1.0\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`);
  return Buffer.concat([Buffer.from(`HPUB ${subject} ${head.length} ${head.length + body.length}\r\n`), head, body, Buffer.from('\r\n')]);
}

export async function rawNatsPublish(port: number, messages: readonly RawNatsMessage[]): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  try {
    await withTimeout(
      'the raw NATS publish to be read by the server',
      new Promise<void>((resolve, reject) => {
        let seen = '';
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) => {
          seen += chunk.toString('latin1');
          if (seen.includes('-ERR')) reject(new Error(`nats-server refused the raw publish: ${seen.slice(seen.indexOf('-ERR')).split('\r\n')[0]}`));
          // INFO first, then our PING's PONG (verbose off: no +OK lines).
          else if (seen.includes('PONG\r\n')) resolve();
        });
        socket.once('connect', () => {
          socket.write(Buffer.concat([Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n'), ...messages.map(encode), Buffer.from('PING\r\n')]));
        });
      }),
      10_000,
    );
  } finally {
    socket.destroy();
  }
}
