/**
 * An accepted stream's socket leaves Node's HTTP server (src/http/stream-socket.ts). What the server
 * did for it must still happen: the client leaving ends the stream and frees its per-address slot,
 * shutdown ends these sockets (and cuts one whose client stopped reading), the server's request
 * timeouts and keep-alive timer never cut a stream, and the stream's head is whole. What the handover
 * is for shows in the heap an idle stream keeps, measured after GC.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { RawConnection, rawGet } from '../helpers/raw-http.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const SWARM = fileURLToPath(new URL('../helpers/connection-swarm.mjs', import.meta.url));
const OPEN = 'event: hub.open';
const HEAD_END = '\r\n\r\n';

/** A raw connection holding an event stream, once the hub has said hub.open on it. */
async function openStream(hub: TestHub, topic = 'a'): Promise<RawConnection> {
  const conn = new RawConnection(hub.port);
  await conn.ready;
  conn.write(rawGet(`/events?topic=${topic}`));
  await conn.waitForText(OPEN, 20_000);
  return conn;
}

describe('event streams off the HTTP server [edge]', () => {
  it('writes the whole head by hand: status, stream headers, Date, no chunked framing', async () => {
    await using hub = await startTestHub();
    using conn = await openStream(hub);
    const head = conn.text.slice(0, conn.text.indexOf(HEAD_END));
    const [status, ...lines] = head.split('\r\n');
    expect(status).toBe('HTTP/1.1 200 OK');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]));
    expect(headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'close',
    });
    expect(new Date(headers['date']!).getTime()).not.toBeNaN();
    expect(headers['transfer-encoding']).toBeUndefined();
    expect(headers['content-length']).toBeUndefined();
    // The retry line follows the head at once, in the same bytes.
    expect(conn.text.slice(head.length + HEAD_END.length)).toMatch(/^retry: \d+\n\n/);
  });

  it('ends the stream and frees the per-address slot when the client hangs up or half-closes', async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTIONS_PER_ADDRESS: '1' });
    const first = await openStream(hub);
    expect(hub.hub.connectionCount).toBe(1);
    using refused = new RawConnection(hub.port);
    refused.write(rawGet('/events?topic=a'));
    expect(await refused.waitForClose()).toContain('429');

    first.reset();
    await waitFor('the reset stream to be torn down', () => hub.hub.connectionCount === 0);
    // The slot is free again: a new stream from the same address is taken.
    using second = await openStream(hub);
    expect(hub.hub.connectionCount).toBe(1);

    // A client that closes its side (FIN) is gone too: the hub ends the stream and the connection.
    second.end();
    await second.waitForClose();
    await waitFor('the half-closed stream to be torn down', () => hub.hub.connectionCount === 0);
    using third = await openStream(hub);
    expect(hub.hub.connectionCount).toBe(1);
  });

  it('drops what a stream\'s client sends after its request, and cuts one that keeps sending', async () => {
    await using hub = await startTestHub();
    using conn = await openStream(hub, 'talk');
    conn.write('a few bytes nobody asked for\r\n');
    await publish(hub.url, 'talk', 'after the noise');
    await conn.waitForText('data: after the noise');
    // Past 2 MiB from one client the connection is cut: dropping bytes still costs reading them.
    conn.write(Buffer.alloc(3 * 1024 * 1024, 'x'));
    await conn.waitForClose(20_000);
    await waitFor('the stream to be torn down', () => hub.hub.connectionCount === 0);
  });

  it('is not cut by the request, headers or keep-alive timeouts while idle', { timeout: 90_000 }, async () => {
    // Short request timeouts (short enough to matter, long enough for a loaded machine to parse the
    // request in), a heartbeat every 100 ms: the heartbeats count the time that passed.
    await using hub = await startTestHub({ HUB_REQUEST_TIMEOUT_MS: '2000', HUB_HEADERS_TIMEOUT_MS: '2000', HUB_HEARTBEAT_MS: '100' });
    using conn = await openStream(hub, 'quiet');
    // 80 quiet intervals: well past the request timeouts and the 5 s keep-alive timeout.
    await waitFor('80 heartbeats', () => conn.text.split(':\n\n').length > 80, 60_000);
    expect(conn.closed).toBe(false);
    await publish(hub.url, 'quiet', 'still here');
    await conn.waitForText('data: still here');
  });

  it('shutdown ends every stream, and cuts one whose client stopped reading', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ HUB_SHUTDOWN_TIMEOUT_MS: '2000', HUB_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024) });
    using reading = await openStream(hub, 'a');
    using stuck = await openStream(hub, 'b');
    stuck.stopReading();
    // Fill the kernel's buffers until the hub holds bytes it cannot hand over: that socket cannot
    // finish, so only shutdown's deadline ends it.
    const payload = 'x'.repeat(60_000);
    await withTimeout(
      'bytes to pile up behind the stuck reader',
      (async () => {
        for (let i = 0; i < 2000 && !hub.hub.inspect().streams.some((s) => s.bufferedBytes > 0); i++) await publish(hub.url, 'b', payload);
      })(),
      30_000,
    );
    expect(hub.hub.inspect().streams.some((s) => s.bufferedBytes > 0)).toBe(true);

    await withTimeout('shutdown', hub.shutdown(), 20_000);
    await reading.waitForClose();
    // Both sockets are gone from the server: nothing is left for it to wait on.
    await waitFor('every socket of the server to close', () => new Promise<boolean>((resolve) => hub.server.getConnections((_err, n) => resolve(n === 0))));
    expect(hub.server.listening).toBe(false);
  });

  it('keeps well under the heap an HTTP response costs for each idle stream', { timeout: 180_000 }, async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTIONS: '20000' });
    const streams = 3000;
    const heap = async () => {
      await sleep(300); // closed sockets finish their teardown over a few turns of the loop
      for (let i = 0; i < 4; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    const swarm = async (count: number, measure: () => Promise<number>) => {
      const child = spawn(process.execPath, [SWARM, String(hub.port), String(count), '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        expect((await withTimeout('the swarm to open', lines.next(), 120_000)).value).toBe(`open ${count}`);
        await waitFor('every stream to be attached', () => hub.hub.connectionCount === count, 20_000);
        return await measure();
      } finally {
        child.kill('SIGKILL');
        await waitFor('every stream to be torn down', () => hub.hub.connectionCount === 0, 30_000);
      }
    };
    await swarm(500, heap); // warm-up: JIT, pools and caches reach their steady size
    const before = await heap();
    const after = await swarm(streams, heap);
    const perStream = (after - before) / streams;
    console.log(`[edge] heap per idle stream: ${(perStream / 1024).toFixed(2)} KiB`);
    // Kept as an HTTP response, an idle stream holds about 7.6 KiB of heap (response, request,
    // parser, bound listeners); off the server about 3.7 KiB (docs/performance.md).
    expect(perStream).toBeLessThan(5 * 1024);
  });
});
