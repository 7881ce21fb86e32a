/**
 * Raw HTTP/1.1 over a TCP socket, for requests no well-behaved client would send (bad bytes, huge
 * headers, slow senders). Reads the answer until the server closes or, for an event stream, until
 * its headers are in; every call is bounded by a timeout.
 */
import { connect, type Socket } from 'node:net';
import { waitFor } from './wait.js';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The answer was an event stream (cut after its headers). */
  readonly stream: boolean;
}

export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 80))}`));
    }, timeoutMs);
    const finish = (answer: RawAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const tryParse = (ended: boolean) => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        if (ended) {
          clearTimeout(timer);
          reject(new Error(`connection closed without an HTTP answer (got ${JSON.stringify(text.slice(0, 80))})`));
        }
        return;
      }
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      if (headers['content-type']?.startsWith('text/event-stream')) return finish({ status, headers, body: '', stream: true });
      let body = Buffer.from(text.slice(end + 4), 'latin1');
      const length = headers['content-length'];
      if (length !== undefined) {
        if (body.length < Number(length)) return ended ? finish({ status, headers, body: body.toString('utf8'), stream: false }) : undefined;
        return finish({ status, headers, body: body.subarray(0, Number(length)).toString('utf8'), stream: false });
      }
      if (headers['transfer-encoding'] === 'chunked') {
        const decoded = dechunk(body);
        if (decoded) return finish({ status, headers, body: decoded.toString('utf8'), stream: false });
      }
      if (ended) finish({ status, headers, body: body.toString('utf8'), stream: false });
      body = Buffer.alloc(0);
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', () => tryParse(true));
    socket.write(request);
  });
}

function dechunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (body.length < lineEnd + 2 + size) return undefined;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The request line and headers of a GET, with `Connection: close`. */
export function rawGet(target: string, headers: Record<string, string> = {}): string {
  const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * One raw connection kept open: write to it, wait for bytes or for the hub to close it. For what
 * follows an answer on the same socket (pipelined requests, bytes after a HEAD's head).
 */
export class RawConnection implements Disposable {
  private readonly socket: Socket;
  private received = Buffer.alloc(0);
  private closedFlag = false;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.ready = new Promise((resolve, reject) => this.socket.once('connect', resolve).once('error', reject));
    this.socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closedFlag = true));
  }

  /** Everything received so far, as latin1 (byte for byte). */
  get text(): string {
    return this.received.toString('latin1');
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async waitForText(needle: string, timeoutMs = 5000): Promise<void> {
    await waitFor(`${JSON.stringify(needle)} on the raw connection (have ${JSON.stringify(this.text.slice(-200))})`, () => this.text.includes(needle), timeoutMs);
  }

  /** Resolves with everything received once the hub has closed the connection. */
  async waitForClose(timeoutMs = 5000): Promise<string> {
    await waitFor(`the hub to close the connection (have ${JSON.stringify(this.text.slice(-200))})`, () => this.closedFlag, timeoutMs);
    return this.text;
  }

  /** Close our side (FIN) and keep reading, as a client that is done sending but still listens. */
  end(): void {
    this.socket.end();
  }

  /** Stop reading: what the hub sends piles up in the kernel's buffers, then in the hub's. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Hang up abruptly (RST), as a client that went away. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  [Symbol.dispose](): void {
    this.socket.destroy();
  }
}
