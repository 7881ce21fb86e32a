/**
 * Requests Node's parser rejects before any route runs (oversized or malformed headers, a client
 * too slow to send its headers or body) get the same JSON error shape as everything else, then the
 * socket is closed. Without this listener Node answers with a bare status line.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';
import { errorAnswer } from './respond.js';

export function clientErrorHandler(metrics: HubMetrics): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // The peer went away or the socket is unusable: nothing to answer.
    // A response already under way (a stream) must not get a second status line in its middle.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = errorAnswer(describe(err), metrics, { Connection: 'close' });
    const head = Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n${answer.body}`);
    // end() waits for the peer to read; a peer that never does must not keep the socket.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
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
