/**
 * SseConnection while it catches up, on a real HTTP response (a server on port 0 and a client that
 * reads it): live events held meanwhile are written after the catch-up, in order and without what
 * the catch-up covered, and they are bounded like the writer, so a catch-up that never ends cannot
 * hold an unbounded pile of live events.
 */
import { get, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CloseReason, SseConnection } from '../../src/sse/connection.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

interface Opened {
  readonly conn: SseConnection;
  /** Everything the client has read so far. */
  readonly received: () => string;
  readonly ended: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function openConnection(maxBufferedBytes: number): Promise<Opened> {
  let conn: SseConnection | undefined;
  // The hub hands a stream's bare socket to SseConnection once its request is accepted
  // (src/http/stream-socket.ts); a net server stands in for that handover here.
  const server = createNetServer((socket: Socket) => {
    conn = new SseConnection('c1', { socket, head: RESPONSE_HEAD }, ['t'], maxBufferedBytes, Buffer.from('retry: 1000\n\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let text = '';
  const ended = withTimeout(
    'the response to reach the client',
    new Promise<IncomingMessage>((resolve, reject) => get(`http://127.0.0.1:${port}/`, resolve).on('error', reject)),
  ).then(
    (res) =>
      new Promise<void>((resolve) => {
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('close', resolve);
        res.on('error', () => resolve());
      }),
  );
  // The head and retry line arrive once the connection is made.
  await waitFor('the retry line', () => text.includes('retry:'));
  return {
    conn: conn!,
    received: () => text,
    ended,
    async [Symbol.asyncDispose]() {
      conn?.close(CloseReason.Shutdown);
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const RESPONSE_HEAD = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n');

const frame = (seq: number, bytes = 0): Buffer => Buffer.from(`id: ${seq}\ndata: ${'x'.repeat(bytes)}${seq}\n\n`);

describe('SseConnection catching up', () => {
  it('writes the live events held during the catch-up after it, minus those it covered', async () => {
    await using opened = await openConnection(64 * 1024);
    const { conn } = opened;
    conn.holdLive();
    for (const seq of [5, 6, 7]) expect(conn.deliver(seq, frame(seq))).toBe(true);
    expect(conn.bufferedBytes).toBe(frame(5).length + frame(6).length + frame(7).length);
    conn.send(Buffer.from('id: 5\nevent: hub.open\ndata: {}\n\n'));
    conn.positionAt(5);
    conn.goLive();
    await waitFor('the held events to arrive', () => opened.received().includes('data: 7\n'));
    expect(opened.received()).toBe('retry: 1000\n\nid: 5\nevent: hub.open\ndata: {}\n\nid: 6\ndata: 6\n\nid: 7\ndata: 7\n\n');
    expect(conn.closed).toBe(false);
    expect(conn.delivered).toBe(2);
  });

  it('closes the stream as a slow consumer once the held events pass HUB_MAX_BUFFERED_BYTES', async () => {
    const limit = 4096;
    await using opened = await openConnection(limit);
    const { conn } = opened;
    conn.holdLive();
    conn.deliver(1, frame(1, 1500));
    conn.deliver(2, frame(2, 1500));
    // 2 frames of ~1.5 kB: under the limit, held.
    expect(conn.closed).toBe(false);
    conn.deliver(3, frame(3, 1500));
    expect(conn.closeReason).toBe(CloseReason.SlowConsumer);
    // Cut, not ended gracefully, and none of the held events were written.
    await withTimeout('the client to see the stream cut', opened.ended);
    expect(opened.received()).toBe('retry: 1000\n\n');
  });
});
