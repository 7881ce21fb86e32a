/**
 * Event streams read their request through NodeRequestFields instead of Hono's request; both must
 * read every query and header the same way, or a stream would see other topics, ids or tokens than
 * the Hono routes do. Compared here on real Node and Fetch objects.
 */
import { createServer, IncomingMessage } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HonoRequest } from 'hono/request';
import { NodeRequestFields } from '../../src/http/node-request.js';
import { withTimeout } from '../helpers/wait.js';

function both(target: string, rawHeaders: string[] = []): { node: NodeRequestFields; hono: HonoRequest } {
  const incoming = new IncomingMessage(new Socket());
  incoming.url = target;
  incoming.rawHeaders = rawHeaders;
  const headers = new Headers();
  for (let i = 0; i < rawHeaders.length; i += 2) headers.append(rawHeaders[i]!, rawHeaders[i + 1]!);
  return { node: new NodeRequestFields(incoming), hono: new HonoRequest(new Request(`http://127.0.0.1:8080${target}`, { headers })) };
}

/** The IncomingMessage a real Node HTTP server makes of `request` (it answers 204 and closes). */
async function parsedByNode(request: string): Promise<IncomingMessage> {
  let received: ((incoming: IncomingMessage) => void) | undefined;
  const arrived = new Promise<IncomingMessage>((resolve) => (received = resolve));
  const server = createServer((incoming, res) => {
    received!(incoming);
    res.writeHead(204, { Connection: 'close' }).end();
  });
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.end(request));
    socket.on('error', () => {});
    return await withTimeout('the request to reach the server', arrived, 5000);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe('NodeRequestFields reads a request as Hono does', () => {
  const targets = [
    '/events',
    '/events?',
    '/events?topic=a.b',
    '/events?topic=a.b&topic=c.*&topic=a.b',
    '/events?topic',
    '/events?topic=&topic=x',
    '/events?topic=a+b&lastEventId=1%2B2',
    '/events?%74opic=x&topic=y',
    '/events?topic=x&access_token=abc.def.ghi&lastEventId=',
    '/events?lastEventId=a=b&topic=q#frag',
    '/events?topicx=1&xtopic=2&topic=3',
    "/events?topic=a'b\"c<d>",
  ];
  for (const target of targets) {
    it(`query of ${target}`, () => {
      const { node, hono } = both(target);
      for (const name of ['topic', 'lastEventId', 'access_token']) {
        expect(node.queries(name)).toEqual(hono.queries(name));
        expect(node.query(name)).toEqual(hono.query(name));
      }
    });
  }

  it('headers, repeated ones joined alike (parsed by a real Node server)', async () => {
    const raw = ['Authorization', 'Bearer a', 'authorization', 'Bearer b', 'Last-Event-ID', 'x-1', 'Cookie', 'a=1', 'Cookie', 'tok=2', 'X-Forwarded-For', '10.0.0.1'];
    const incoming = await parsedByNode(`GET /events?topic=a HTTP/1.1\r\nHost: x\r\n${raw.map((v, i) => (i % 2 ? `${v}\r\n` : `${v}: `)).join('')}\r\n`);
    const { hono } = both('/events?topic=a', raw);
    const node = new NodeRequestFields(incoming);
    for (const name of ['authorization', 'last-event-id', 'cookie', 'x-forwarded-for', 'origin']) expect(node.header(name)).toEqual(hono.header(name));
  });
});
