/**
 * SseWriter's promises, observed on a real Writable standing in for the stream's socket: one write
 * per turn, whole frames only, large frames not copied, backpressure honoured, the bound enforced
 * (with a replay's allowance), heartbeats only on quiet streams.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SseWriter } from '../../src/sse/writer.js';

/** A Writable that records each chunk it is handed; while `blocked`, it does not finish writes. */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  blocked = false;
  private held: (() => void)[] = [];

  constructor(highWaterMark = 16 * 1024) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    if (this.blocked) this.held.push(done);
    else done();
  }

  release(): void {
    this.blocked = false;
    for (const done of this.held.splice(0)) done();
  }

  get text(): string[] {
    return this.chunks.map(String);
  }
}

interface Setup {
  readonly writer: SseWriter;
  readonly socket: Sink;
  readonly overflows: () => number;
}

function setup({ maxBufferedBytes = 1024 * 1024, socketHighWaterMark = 16 * 1024 } = {}): Setup {
  const socket = new Sink(socketHighWaterMark);
  let overflows = 0;
  const writer = new SseWriter(socket, maxBufferedBytes, () => overflows++);
  return { writer, socket, overflows: () => overflows };
}

// setImmediate runs after the flush the writer scheduled with setImmediate earlier in the turn.
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
// A Writable emits 'drain' on a later tick, after the held writes finish.
const drained = (stream: Writable) => new Promise<void>((resolve) => stream.once('drain', () => resolve()));
const frame = (text: string) => Buffer.from(text);
const sized = (bytes: number, fill = 'x') => Buffer.alloc(bytes, fill);

describe('SseWriter', () => {
  it('sends the frames of one turn in one write', async () => {
    const { writer, socket } = setup();
    writer.write(frame('a'));
    writer.write(frame('b'));
    expect(socket.chunks).toEqual([]); // nothing leaves before the end of the turn
    await nextTurn();
    expect(socket.text).toEqual(['ab']);
    writer.write(frame('c'));
    writer.write(frame('d'));
    await nextTurn();
    expect(socket.text).toEqual(['ab', 'cd']);
    expect(writer.bytesWritten).toBe(4);
  });

  it('flushes every writer that has frames at the end of the turn', async () => {
    const first = setup();
    const second = setup();
    first.writer.write(frame('1'));
    second.writer.write(frame('2'));
    await nextTurn();
    expect(first.socket.text).toEqual(['1']);
    expect(second.socket.text).toEqual(['2']);
  });

  it('writes at once once 64 KiB are queued, without waiting for the end of the turn', () => {
    const { writer, socket } = setup();
    writer.write(sized(64 * 1024 - 1));
    expect(socket.chunks).toEqual([]);
    writer.write(frame('!'));
    expect(Buffer.concat(socket.chunks).length).toBe(64 * 1024);
  });

  it('writes a batch of large frames as they are (not copied), and a batch of small ones as one chunk', async () => {
    const { writer, socket } = setup();
    writer.write(frame('head'));
    await nextTurn();
    expect(socket.text).toEqual(['head']);
    const large = [sized(5000, 'a'), sized(5000, 'b'), sized(5000, 'c'), sized(5000, 'd')];
    for (const f of large) writer.write(f);
    await nextTurn();
    expect(socket.chunks).toHaveLength(5);
    socket.chunks.slice(1).forEach((chunk, i) => expect(chunk).toBe(large[i]));

    // Over the concat limit in total, but small frames: one copy is cheaper than many writes.
    const small = Array.from({ length: 20 }, () => sized(1000));
    for (const f of small) writer.write(f);
    await nextTurn();
    expect(socket.chunks).toHaveLength(6);
    expect(socket.chunks[5]!.length).toBe(20_000);
    // One frame goes as it is.
    const one = sized(100);
    writer.write(one);
    await nextTurn();
    expect(socket.chunks[6]).toBe(one);
  });

  it('stops at backpressure, queues until drain, then sends the queue in one write', async () => {
    const { writer, socket } = setup({ socketHighWaterMark: 4 });
    writer.write(frame('head'));
    await nextTurn();
    socket.blocked = true;
    writer.write(frame('12345')); // over the socket's high-water mark: write() returns false
    await nextTurn();
    expect(socket.text).toEqual(['head', '12345']);
    writer.write(frame('x'));
    writer.write(frame('y'));
    await nextTurn();
    expect(socket.text).toEqual(['head', '12345']); // held while waiting for drain
    expect(writer.pendingBytes).toBe(2 + 5);
    const drain = drained(socket);
    socket.release();
    await drain;
    expect(socket.text).toEqual(['head', '12345', 'xy']);
  });

  it('reports overflow once when pending bytes pass the bound, and drops everything after it', async () => {
    const { writer, socket, overflows } = setup({ maxBufferedBytes: 10, socketHighWaterMark: 1 });
    writer.write(frame('h'));
    await nextTurn();
    socket.blocked = true;
    writer.write(frame('12345'));
    await nextTurn(); // in the socket, unfinished: pending
    writer.write(frame('12345')); // 10 pending: at the bound, not past it
    expect(overflows()).toBe(0);
    writer.write(frame('!'));
    expect(overflows()).toBe(1);
    writer.write(frame('more'));
    expect(overflows()).toBe(1);
    socket.release();
    await nextTurn();
    await nextTurn();
    expect(socket.text).toEqual(['h', '12345']);
  });

  it('lets an allowed replay burst past the bound until it has drained, then enforces the bound again', async () => {
    const { writer, socket, overflows } = setup({ maxBufferedBytes: 10, socketHighWaterMark: 1 });
    writer.write(frame('h'));
    await nextTurn();
    socket.blocked = true;
    writer.allow(30);
    writer.write(sized(35)); // 35 > 10 but within 10 + 30
    await nextTurn();
    expect(overflows()).toBe(0);
    const drain = drained(socket);
    socket.release();
    await drain; // pending is back under the bound: the allowance ends
    socket.blocked = true;
    writer.write(sized(8));
    await nextTurn();
    writer.write(sized(5)); // 13 pending, past 10 with no allowance left
    expect(overflows()).toBe(1);
  });

  it('keeps an allowance while what is pending is still above the ordinary bound', async () => {
    const { writer, socket, overflows } = setup({ maxBufferedBytes: 10, socketHighWaterMark: 1 });
    writer.write(frame('h'));
    await nextTurn();
    writer.allow(30);
    writer.write(sized(35)); // accepted at once by the socket (not blocked): nothing pending
    await nextTurn();
    // The flush succeeded with nothing pending: the allowance is settled, the bound is 10 again.
    socket.blocked = true;
    writer.write(sized(8));
    await nextTurn();
    writer.write(sized(5));
    expect(overflows()).toBe(1);
  });

  it('writes a heartbeat only after a whole tick with nothing written', async () => {
    const { writer, socket } = setup();
    const heartbeat = frame(':\n\n');
    writer.tick(heartbeat); // the stream just opened: not quiet for a whole tick yet
    await nextTurn();
    expect(socket.chunks).toEqual([]);
    writer.tick(heartbeat);
    await nextTurn();
    expect(socket.text).toEqual([':\n\n']);
    writer.write(frame('event'));
    writer.tick(heartbeat); // events flowed during this tick: no heartbeat
    await nextTurn();
    expect(socket.text).toEqual([':\n\n', 'event']);
    writer.tick(heartbeat);
    await nextTurn();
    expect(socket.text).toEqual([':\n\n', 'event', ':\n\n']);
  });

  it('after close, drops what is queued and ignores writes and drains', async () => {
    const { writer, socket } = setup({ socketHighWaterMark: 1 });
    writer.write(frame('h'));
    await nextTurn();
    socket.blocked = true;
    writer.write(frame('ab'));
    await nextTurn();
    writer.write(frame('queued'));
    writer.close();
    expect(socket.listenerCount('drain')).toBe(0);
    writer.write(frame('late'));
    socket.release();
    await nextTurn();
    await nextTurn();
    expect(socket.text).toEqual(['h', 'ab']);
    expect(writer.pendingBytes).toBe(0);
  });
});

// Cases found by mutation testing (docs/testing.md): each pins a rule no other test reached.
describe('SseWriter: batching limits, backpressure and allowances at their edges', () => {
  it('concatenates a batch up to 16 KiB into one chunk, even of frames too large to copy one by one', async () => {
    const { writer, socket } = setup();
    writer.write(frame('h'));
    await nextTurn();
    expect(socket.chunks).toHaveLength(1);
    // 2 x 6 KiB: 12 KiB, under the 16 KiB concat limit though each frame is "large" (>= 4 KiB).
    writer.write(sized(6 * 1024, 'a'));
    writer.write(sized(6 * 1024, 'b'));
    await nextTurn();
    // Exactly 16 KiB is still one chunk.
    writer.write(sized(8 * 1024, 'c'));
    writer.write(sized(8 * 1024, 'd'));
    await nextTurn();
    // The first chunk is the head-like frame written before.
    expect(socket.chunks.slice(1).map((c) => c.length)).toEqual([12 * 1024, 16 * 1024]);
  });

  it('writes a batch above 16 KiB whose frames average exactly 4 KiB frame by frame', async () => {
    const { writer, socket } = setup();
    writer.write(frame('h'));
    await nextTurn();
    for (const fill of 'abcde') writer.write(sized(4 * 1024, fill));
    await nextTurn();
    expect(socket.chunks.slice(1).map((c) => c.length)).toEqual([4096, 4096, 4096, 4096, 4096]);
  });

  it('writes nothing to a socket it waits on, even when asked to flush (a teardown flush)', async () => {
    const { writer, socket } = setup({ socketHighWaterMark: 4 });
    writer.write(frame('head'));
    await nextTurn();
    socket.blocked = true;
    writer.write(frame('12345'));
    await nextTurn();
    writer.write(frame('x'));
    writer.flush();
    expect(socket.writableLength).toBe(5); // 'x' stays with the writer
    expect(writer.pendingBytes).toBe(1 + 5);
  });

  it('waits for drain after a write the socket refused, whichever batch shape it was', async () => {
    const { writer, socket } = setup({ socketHighWaterMark: 1024 });
    writer.write(frame('head'));
    await nextTurn();
    socket.blocked = true;
    writer.write(sized(5 * 1024, 'a'));
    writer.write(sized(5 * 1024, 'b'));
    writer.write(sized(5 * 1024, 'c'));
    writer.write(sized(5 * 1024, 'd')); // 20 KiB of large frames: written one by one, corked
    await nextTurn();
    expect(socket.writableLength).toBe(20 * 1024);
    writer.write(frame('later'));
    await nextTurn();
    expect(socket.writableLength).toBe(20 * 1024); // held by the writer until drain, not handed on
    expect(writer.pendingBytes).toBe(20 * 1024 + 5);
    const drain = drained(socket);
    socket.release();
    await drain;
    expect(socket.text.at(-1)).toBe('later');
  });

  it('keeps a replay allowance while the socket holds more than the bound, though it took the write', async () => {
    // The socket's own buffer (16 KiB high-water mark) takes the replay without refusing it, so the
    // bytes are pending in it, above the 1 KiB bound: the allowance must stay until they leave.
    const { writer, socket, overflows } = setup({ maxBufferedBytes: 1024 });
    writer.write(frame('h'));
    await nextTurn();
    socket.blocked = true;
    writer.allow(10 * 1024);
    writer.write(sized(10 * 1024));
    await nextTurn();
    expect(writer.pendingBytes).toBe(10 * 1024);
    writer.write(sized(100)); // 10 KiB + 100 B: within 1 KiB + the 10 KiB allowance
    expect(overflows()).toBe(0);
  });

  it('ends an allowance once what is pending is exactly at the bound', async () => {
    const { writer, socket, overflows } = setup({ maxBufferedBytes: 1024 });
    writer.write(frame('h'));
    await nextTurn();
    socket.blocked = true;
    writer.allow(1024);
    writer.write(sized(1024));
    await nextTurn();
    expect(writer.pendingBytes).toBe(1024);
    writer.write(sized(1)); // 1025: past the bound, and the allowance has ended
    expect(overflows()).toBe(1);
  });
});

