/**
 * Requests refused before any route runs get the same JSON error shape as everything else:
 * - what Node's parser rejects (oversized or malformed headers, a client too slow to send its
 *   headers or body), answered on the socket, which is then closed;
 * - `CONNECT` (this hub is no proxy), the same way;
 * - a request target or Host the Hono adapter cannot make a URL of (`OPTIONS *`, `Host: a b`),
 *   answered as an ordinary response.
 * Without these Node answers a bare status line or closes the socket, and the adapter an empty 400.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import type { Logger } from '../log.js';
import { asHubError, errorAnswer } from './respond.js';

// What the routes answer to (app.ts), for a 405's Allow header.
const ALLOWED_METHODS = 'GET, HEAD, POST';

export function clientErrorHandler(metrics: HubMetrics): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    // The peer went away or the socket is unusable: nothing to answer.
    // A response already under way (a stream) must not get a second status line in its middle.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    refuseOnSocket(socket, describe(err), metrics);
  };
}

/** Node's 'connect' event: without a listener Node closes the socket without a word. */
export function connectHandler(metrics: HubMetrics): (req: IncomingMessage, socket: Duplex) => void {
  return (_req, socket) => {
    if (!socket.writable) return void socket.destroy();
    refuseOnSocket(socket, new HubError(ErrorCode.MethodNotAllowed, 'CONNECT is not supported: this hub is not a proxy'), metrics, { Allow: ALLOWED_METHODS });
  };
}

/** The adapter's errorHandler: its RequestError is the client's doing; anything else is ours. */
export function requestErrorHandler(metrics: HubMetrics, log: Logger): (err: unknown) => Response {
  return (err) => {
    const refusal =
      err instanceof RequestError ? new HubError(ErrorCode.BadRequest, `the request target or Host header cannot be served (${err.message})`) : asHubError(err, log);
    const answer = errorAnswer(refusal, metrics);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

/** The answer goes straight onto the socket (no response object exists), then the socket closes. */
function refuseOnSocket(socket: Duplex, err: HubError, metrics: HubMetrics, headers?: Record<string, string>): void {
  const answer = errorAnswer(err, metrics, { ...headers, Connection: 'close' });
  const head = Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n${answer.body}`);
  // end() waits for the peer to read; a peer that never does must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function describe(err: NodeJS.ErrnoException): HubError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HubError(ErrorCode.HeadersTooLarge, 'the request line and headers are larger than the hub accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HubError(ErrorCode.RequestTimeout, 'the request was not received in time');
    default:
      return new HubError(ErrorCode.BadRequest, `malformed HTTP request (${err.code ?? 'parse error'})`);
  }
}
