/**
 * The HTTP edge as a hostile or careless client meets it, over raw sockets against a real hub: a
 * HEAD ends after its head, nothing pipelined behind a stream runs, requests no route can take get
 * JSON refusals, and a body that never arrives whole is the client's doing, not an internal error.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startTestHub, publish } from '../helpers/hub.js';
import { captureLog, ERROR_LEVEL } from '../helpers/log-capture.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { RawConnection, rawRequest } from '../helpers/raw-http.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const HEAD_END = '\r\n\r\n';

function post(target: string, body: string): string {
  return `POST ${target} HTTP/1.1\r\nHost: hub\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The JSON error an answer carries, with its status. */
function refusal(answer: { status: number; headers: Readonly<Record<string, string>>; body: string }) {
  return { status: answer.status, type: answer.headers['content-type'], code: (JSON.parse(answer.body) as { code: string }).code };
}

describe('HTTP edge [edge]', () => {
  it('answers HEAD /events with its head and ends: no frames follow, no stream is counted', async () => {
    // Heartbeats as often as allowed: a HEAD that opened a stream would get them after its head.
    await using hub = await startTestHub({ HUB_HEARTBEAT_MS: '100' });
    using conn = new RawConnection(hub.port);
    await withTimeout('connect', conn.ready);
    conn.write('HEAD /events?topic=h HTTP/1.1\r\nHost: hub\r\n\r\n');
    await conn.waitForText(HEAD_END);
    await publish(hub.url, 'h', 'after the head');
    const text = await conn.waitForClose();
    expect(text.slice(0, 15)).toBe('HTTP/1.1 200 OK');
    expect(text).toMatch(/content-type: text\/event-stream; charset=utf-8\r\n/i);
    expect(text.indexOf(HEAD_END) + HEAD_END.length, 'bytes after the head').toBe(text.length);
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_connections')).toBe(0);
    expect(metricValue(metrics, 'ssehub_connections_opened_total')).toBe(0);
  });

  it('runs nothing pipelined behind an event stream on its socket', async () => {
    // A long shutdown timeout: a request that never ran must not hold the shutdown (checked at the end).
    const hub = await startTestHub({ HUB_SHUTDOWN_TIMEOUT_MS: '60000' });
    try {
      using conn = new RawConnection(hub.port);
      await withTimeout('connect', conn.ready);
      conn.write(`GET /events?topic=p HTTP/1.1\r\nHost: hub\r\n\r\n${post('/publish?topic=p', 'pipelined')}`);
      await conn.waitForText('event: hub.open');
      // A publish from elsewhere reaches the stream; the pipelined one, had it run, came first.
      expect((await publish(hub.url, 'p', 'sentinel')).status).toBe(200);
      await conn.waitForText('data: sentinel');
      expect(conn.text).not.toContain('pipelined');
      expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_events_published_total')).toBe(1);
      // Once the stream's connection is gone, the request behind it is gone with it.
      conn.reset();
      await waitFor('the stream to close', () => hub.hub.connectionCount === 0);
      expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_events_published_total')).toBe(1);
    } finally {
      await withTimeout('shutdown, not held by a request that never ran', hub.shutdown(), 10_000);
    }
  });

  it('still answers ordinary pipelined requests, in order', async () => {
    await using hub = await startTestHub();
    using conn = new RawConnection(hub.port);
    await withTimeout('connect', conn.ready);
    conn.write(`GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n${post('/publish?topic=q', 'one')}GET /readyz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n`);
    const text = await conn.waitForClose();
    // Each answer has a Content-Length, so the next one starts right after its body.
    const answers = text.split('HTTP/1.1 ').slice(1);
    expect(answers.map((answer) => answer.slice(0, 3))).toEqual(['200', '200', '200']);
    const bodies = answers.map((answer) => JSON.parse(answer.slice(answer.indexOf(HEAD_END) + HEAD_END.length)) as object);
    expect(bodies.map((body) => Object.keys(body)[0])).toEqual(['status', 'id', 'status']);
  });

  it('cuts a connection that piles requests up behind a stream', async () => {
    await using hub = await startTestHub();
    using conn = new RawConnection(hub.port);
    await withTimeout('connect', conn.ready);
    conn.write(`GET /events?topic=f HTTP/1.1\r\nHost: hub\r\n\r\n${post('/publish?topic=f', 'flood').repeat(100)}`);
    await conn.waitForClose();
    await waitFor('the stream to close', () => hub.hub.connectionCount === 0);
    expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_events_published_total')).toBe(0);
  });

  it('refuses with JSON what no route can take: CONNECT, OPTIONS *, a bad Host, HTTP/1.1 without Host', async () => {
    await using hub = await startTestHub();
    const connect = await rawRequest(hub.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(refusal(connect)).toEqual({ status: 405, type: 'application/json', code: 'method_not_allowed' });
    expect(connect.headers['allow']).toBe('GET, HEAD, POST');
    const cases: Array<[name: string, request: string]> = [
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n'],
      ['a Host that is no host name', 'GET /healthz HTTP/1.1\r\nHost: exa mple\r\nConnection: close\r\n\r\n'],
      ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
      ['a stream over HTTP/1.1 without Host', 'GET /events?topic=a HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ];
    for (const [name, request] of cases) {
      expect(refusal(await rawRequest(hub.port, request)), name).toEqual({ status: 400, type: 'application/json', code: 'bad_request' });
    }
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'bad_request' })).toBe(cases.length);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'method_not_allowed' })).toBe(1);
    expect(hub.hub.connectionCount).toBe(0);
  });

  it('serves HTTP/1.0 without Host, which that version does not require', async () => {
    await using hub = await startTestHub();
    const health = await rawRequest(hub.port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect({ status: health.status, body: JSON.parse(health.body) as unknown }).toEqual({ status: 200, body: { status: 'ok' } });
    const stream = await rawRequest(hub.port, 'GET /events?topic=a HTTP/1.0\r\n\r\n');
    expect({ status: stream.status, stream: stream.stream }).toEqual({ status: 200, stream: true });
  });

  it('takes a publish body that never arrives whole as the client\'s doing: no error line, nothing internal', async () => {
    const captured = captureLog('debug');
    await using hub = await startTestHub({}, { log: captured.log });
    const malformed = await rawRequest(hub.port, 'POST /publish?topic=b HTTP/1.1\r\nHost: hub\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
    expect(refusal(malformed)).toEqual({ status: 400, type: 'application/json', code: 'bad_request' });
    await captured.waitForMessage('publish body did not arrive; nothing was published');

    using aborted = new RawConnection(hub.port);
    await withTimeout('connect', aborted.ready);
    const received = once(hub.server, 'request');
    aborted.write('POST /publish?topic=b HTTP/1.1\r\nHost: hub\r\nContent-Length: 100\r\n\r\nonly part of it');
    await withTimeout('the hub to take the request', received);
    aborted.reset();
    await waitFor('both lost bodies to be logged', () => captured.records().filter((r) => r.msg === 'publish body did not arrive; nothing was published').length === 2);

    expect(captured.records().filter((r) => r.level >= ERROR_LEVEL)).toEqual([]);
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'internal' })).toBeUndefined();
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'bad_request' })).toBe(1);
    expect(metricValue(metrics, 'ssehub_events_published_total')).toBe(0);
  });
});
