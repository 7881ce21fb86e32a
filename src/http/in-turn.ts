/**
 * One request at a time per connection. Node emits 'request' for every request it parses, also for
 * one pipelined behind a response that has not finished (`GET /events` then `POST /publish` in one
 * write), and holds back only its answer: the publish would run, and never be answered behind a
 * stream that lasts as long as its connection. Here a request runs once Node hands it the socket,
 * that is, once every earlier response on the connection has finished. An event stream says
 * `Connection: close`, so nothing pipelined behind it ever runs (RFC 9112 §9.6: after a `close`,
 * a server must not process further requests on that connection).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

// Requests waiting behind an unfinished response on one connection, above which the connection is
// cut. Each costs the client a few bytes and the hub a request and a response object, and Node stops
// reading a pipelining client only once the answers it holds back pass a high-water mark: waiting
// requests hold back none. Clients that pipeline at all send a few at a time.
const MAX_WAITING_PER_CONNECTION = 32;

export function inTurn(listener: Listener): Listener {
  const waiting = new WeakMap<Socket, number>();
  return (req, res) => {
    // Node assigns the socket at once to the first response on a connection, and to each later one
    // (emitting 'socket') when the one before it has finished.
    if (res.socket) return listener(req, res);
    const socket = req.socket;
    const count = (waiting.get(socket) ?? 0) + 1;
    if (count > MAX_WAITING_PER_CONNECTION) return void socket.destroy();
    waiting.set(socket, count);
    res.once('socket', () => {
      waiting.set(socket, (waiting.get(socket) ?? 1) - 1);
      listener(req, res);
    });
  };
}
