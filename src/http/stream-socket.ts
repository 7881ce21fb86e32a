/**
 * The handover of an accepted event stream: its socket leaves Node's HTTP machinery and becomes a
 * bare `net.Socket` the stream writes to, with a response head written by hand.
 *
 * Why: an idle stream kept as a Node `ServerResponse` costs about 11 KiB (the response, the request,
 * the HTTP parser and its async resource, a dozen bound listeners on the socket); the bare socket
 * costs about 4 KiB (docs/performance.md, "Memory per idle stream"). The route table, the
 * middleware and every check run as before on Node's request and response; only a stream the
 * events handler has accepted is handed over, so refusals stay ordinary responses.
 *
 * What the handover undoes is what Node's HTTP server did to the socket when it accepted the
 * connection (`connectionListenerInternal` in Node's `_http_server`), the way Node's own upgrade
 * path undoes it before it emits 'upgrade': the response lets go of the socket (`detachSocket`),
 * the server's listeners come off, the parser stops consuming the socket and is freed, which also
 * takes the connection off the server's list (so `requestTimeout`/`headersTimeout` sweeps and
 * `closeAllConnections()` no longer see it: shutdown ends these sockets through StreamSockets).
 */
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { SSE_HEADERS, type StreamSocket } from '../sse/connection.js';

// Node's public (if legacy) `_http_common` module: the function its HTTP server frees a parser with,
// on close and on upgrade. Not in @types/node, hence the require and the shape.
const httpCommon = createRequire(import.meta.url)('_http_common') as { freeParser?: (parser: unknown, req: unknown, socket: unknown) => void };
const freeParser = httpCommon.freeParser;
if (typeof freeParser !== 'function') throw new Error(`this Node version (${process.version}) has no _http_common.freeParser: event streams cannot leave the HTTP server`);

/**
 * Emitted on a response whose socket was handed over: it will never emit 'close' (its socket no
 * longer tells it), so whoever counts unfinished responses counts this as the end of this one.
 */
export const HANDED_OVER = Symbol('ssehub.handed-over');

// The server's listeners on a socket (data, end, close, drain, error, timeout, and pause/resume
// while the parser consumes the socket) all come off; net's own stay. Which those are is read off
// a fresh socket once, not named, so another Node version's internals cannot be missed.
const HTTP_EVENTS = ['data', 'end', 'close', 'drain', 'error', 'timeout', 'pause', 'resume'] as const;
const NET_OWN = ((): ReadonlyMap<string, ReadonlySet<unknown>> => {
  const fresh = new Socket();
  const own = new Map(HTTP_EVENTS.map((event) => [event as string, new Set(fresh.listeners(event))]));
  fresh.destroy();
  return own;
})();

// The fixed part of every stream's head, encoded once; Date goes after it.
const STATUS_LINE = 'HTTP/1.1 200 OK\r\n';
const FIXED_HEADERS = Object.entries(SSE_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');
const FIXED_NAMES: ReadonlySet<string> = new Set(Object.keys(SSE_HEADERS).map((name) => name.toLowerCase()));

// RFC 9110 §6.6.1: an origin server with a clock sends Date. It changes once a second: format it
// once a second, as Node does.
let dateSecond = 0;
let dateText = '';
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * The head an event stream's response gets: status, the headers middleware set on the response
 * (CORS), the fixed stream headers (which win over a header of the same name, as in writeHead), Date.
 */
export function streamHead(res: ServerResponse): Buffer {
  let head = STATUS_LINE;
  // Lower-case names (field names are case-insensitive, RFC 9110 §5.1).
  for (const name of res.getHeaderNames()) {
    if (FIXED_NAMES.has(name)) continue;
    const value = res.getHeader(name);
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
  }
  return Buffer.from(`${head}${FIXED_HEADERS}Date: ${httpDate()}\r\n\r\n`, 'latin1');
}

// A socket error is followed by 'close', which ends the stream: nothing else to do, but without a
// listener the error would be thrown.
function ignore(): void {}

// What a stream's client may send in all (its request head, anything pipelined behind it) before the
// connection is cut: reading and dropping bytes costs CPU, and a stream's client has nothing to say.
// Above the largest head the hub accepts (HUB_MAX_HEADER_BYTES, at most 1 MiB) with room for a few
// requests pipelined before the stream's `Connection: close` reached the client.
const MAX_BYTES_FROM_STREAM_CLIENT = 2 * 1024 * 1024;

function dropInput(this: Socket): void {
  if (this.bytesRead > MAX_BYTES_FROM_STREAM_CLIENT) this.destroy();
}

/** Event-stream sockets taken from the HTTP server, so shutdown can find and end them. */
export class StreamSockets {
  private readonly open = new Set<Socket>();
  private emptied: (() => void) | undefined;
  // One listener for every socket (it is called with the socket as `this`): a closure per stream
  // would cost memory per stream.
  private readonly forget: (this: Socket) => void;

  constructor() {
    const open = this.open;
    const registry = this;
    this.forget = function forget(this: Socket) {
      open.delete(this);
      if (open.size === 0) registry.emptied?.();
    };
  }

  /** Streams whose socket has not closed yet. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Take the socket of `res`, an accepted stream whose head has not been written, out of the HTTP
   * server: from then on it is a bare socket, and `head` is what its response still owes.
   * Undefined when the client is gone already (nothing to take).
   *
   * Done at the end of this turn of the event loop, not now: the handler may be running inside the
   * parser's callback, with more of the same read still to parse (requests pipelined behind this
   * one). Node frees a parser only once it has returned, and so does this; until then a request
   * parsed behind the stream waits behind its response, as in-turn.ts has it, and never runs.
   */
  take(res: ServerResponse): Promise<StreamSocket | undefined> {
    return new Promise((resolve) => setImmediate(() => resolve(this.takeNow(res))));
  }

  private takeNow(res: ServerResponse): StreamSocket | undefined {
    const socket = res.socket as Socket | null;
    if (!socket || socket.destroyed || !socket.writable || socket.readableEnded) return undefined;
    const head = streamHead(res);
    res.detachSocket(socket);
    const parser = (socket as Socket & { parser?: unknown }).parser;
    for (const event of HTTP_EVENTS) {
      const own = NET_OWN.get(event)!;
      for (const listener of socket.listeners(event)) if (!own.has(listener)) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
    // Stops the parser consuming the socket, takes the connection off the server's list, frees the parser.
    if (parser) freeParser!(parser, null, socket);
    // server.timeout would otherwise still apply (0 by default; the request timeouts are the parser's, gone now).
    socket.setTimeout(0);
    // The server's wrappers of on/addListener/prependListener put net.Socket's own back on their
    // first call once the parser is gone (deleting them instead would turn the socket into a slow,
    // larger dictionary-mode object).
    socket.on('error', ignore);
    // Read what the client sends, so its FIN is seen ('end') when it goes away; an EventSource
    // sends nothing after its request, and what anyone else sends is dropped (the stream said
    // `Connection: close`), up to a bound.
    socket.on('data', dropInput);
    res.emit(HANDED_OVER);

    this.open.add(socket);
    socket.on('close', this.forget);
    return { socket, head };
  }

  /** Resolves once every stream socket has closed. */
  closed(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.emptied = resolve));
  }

  /** Shutdown's last step: streams still open (a client that never read its end) are cut. */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}
