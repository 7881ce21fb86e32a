/**
 * Requests Node's parser rejects before any route runs (oversized or malformed headers, a client
 * too slow to send its headers or body) get the same JSON error shape as everything else, then the
 * socket is closed. Without this listener Node answers with a bare status line.
 */
import type { Socket } from 'node:net';
import { ErrorCode, HubError } from '../errors.js';
import type { HubMetrics } from '../metrics.js';

export function clientErrorHandler(metrics: HubMetrics): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // The peer went away or the socket is unusable: nothing to answer.
    // A response already under way (a stream) must not get a second status line in its middle.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = describe(err);
    metrics.requestsRejected.inc({ code: answer.code });
    const body = JSON.stringify(answer.toJSON());
    const reason = answer.status === 431 ? 'Request Header Fields Too Large' : answer.status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${answer.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
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
