/**
 * GET /events goes through Hono's router and middleware like every route, however its path is
 * spelled (`/events`, or `/%65vents`, which only the router resolves): both spellings must answer
 * every request alike, refusals, CORS and metrics included. Checked on a real hub.
 */
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';

const ORIGIN = 'https://app.example.com';
const COMPARED_HEADERS = ['content-type', 'www-authenticate', 'retry-after', 'vary', 'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers'];

function essentials(answer: RawAnswer): Record<string, unknown> {
  return { status: answer.status, body: answer.body, stream: answer.stream, headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, answer.headers[name]])) };
}

describe('event streams through Hono [edge]', () => {
  it('answer every request alike on both spellings, refusals, CORS and metrics included', async () => {
    await using hub = await startTestHub({
      HUB_AUTH_HS256_SECRET: HS256_SECRET,
      HUB_AUTH_COOKIE: 'hub_token',
      HUB_ANONYMOUS_SUBSCRIBE: 'pub.>',
      HUB_CORS_ORIGINS: ORIGIN,
      HUB_CORS_CREDENTIALS: 'true',
      HUB_MAX_TOPICS: '4',
      HUB_MAX_QUERY_BYTES: '1024',
    });
    const token = await mint({ subscribe: ['a.>'] });
    const cases: Array<[name: string, query: string, headers: string]> = [
      ['no topic', '', ''],
      ['a bad topic', 'topic=a..b', ''],
      ['too many topics', 'topic=pub.1&topic=pub.2&topic=pub.3&topic=pub.4&topic=pub.5', ''],
      ['a long Last-Event-ID header', 'topic=pub.a', `Last-Event-ID: ${'1'.repeat(65)}\r\n`],
      ['a long lastEventId query', `topic=pub.a&lastEventId=${'1'.repeat(65)}`, ''],
      ['a bad percent-encoding', 'topic=%FF', ''],
      ['a long query', `topic=${'a'.repeat(1100)}`, ''],
      ['no token for a closed topic', 'topic=a.x', ''],
      ['a malformed Authorization', 'topic=a.x', 'Authorization: Basic abc\r\n'],
      ['two Authorization headers', 'topic=a.x', `Authorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\n`],
      ['a token not granting the topic', 'topic=b.x', `Authorization: Bearer ${token}\r\n`],
      ['a token in the query', `topic=a.x&access_token=${token}`, ''],
      ['a token in the cookie', 'topic=a.x', `Cookie: other=1; hub_token=${token}\r\n`],
      ['an anonymous topic', 'topic=pub.x&topic=pub.x', ''],
    ];
    for (const [name, query, headers] of cases) {
      for (const origin of ['', `Origin: ${ORIGIN}\r\n`, 'Origin: https://evil.example\r\n']) {
        const request = (path: string) => `GET ${path}${query ? `?${query}` : ''} HTTP/1.1\r\nHost: hub\r\n${origin}${headers}Connection: close\r\n\r\n`;
        const direct = await rawRequest(hub.port, request('/events'));
        const viaHono = await rawRequest(hub.port, request('/%65vents'));
        expect(essentials(direct), `${name} ${origin}`).toEqual(essentials(viaHono));
      }
    }
    // Each refusal was counted once per request on both ways (3 origins x 2 paths).
    const metrics = await scrapeMetrics(hub.url);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'no_topic' })).toBe(6);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'query_too_long' })).toBe(6);
    expect(metricValue(metrics, 'ssehub_requests_rejected_total', { code: 'token_invalid' })).toBe(12);
  });

  it('leaves other methods and paths to Hono', async () => {
    await using hub = await startTestHub();
    const post = await rawRequest(hub.port, 'POST /events?topic=a HTTP/1.1\r\nHost: hub\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect({ status: post.status, body: JSON.parse(post.body) }).toEqual({ status: 404, body: { code: 'not_found', error: 'no route for POST /events' } });
    const nested = await rawRequest(hub.port, 'GET /events/x?topic=a HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n');
    expect(nested.status).toBe(404);
    const head = await rawRequest(hub.port, 'HEAD /events HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n');
    expect(head.status).toBe(400);
  });

  it('answers a HEAD with the head a GET gets, and opens no stream', async () => {
    await using hub = await startTestHub();
    for (const path of ['/events', '/%65vents']) {
      const head = await rawRequest(hub.port, `HEAD ${path}?topic=a HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n`);
      expect({ status: head.status, type: head.headers['content-type'], body: head.body }, path).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8', body: '' });
      const refused = await rawRequest(hub.port, `HEAD ${path}?topic=a..b HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n`);
      expect({ status: refused.status, length: refused.headers['content-length'], body: refused.body }, path).toEqual({ status: 400, length: expect.any(String), body: '' });
    }
    expect(hub.hub.connectionCount).toBe(0);
  });
});
