/**
 * Limits and hostile input against a real hub: every refusal is a bounded JSON answer with a metric,
 * and a healthy subscriber on the side keeps getting its events.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../helpers/http.js';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { rawGet, rawRequest } from '../helpers/raw-http.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { withTimeout } from '../helpers/wait.js';

async function json(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('CORS [limits]', () => {
  it('answers preflights for listed origins, exactly, with credentials; refuses others', async () => {
    await using hub = await startTestHub({ HUB_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' });
    const preflight = (origin: string) =>
      fetch(`${hub.url}/publish?topic=a`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
        signal: AbortSignal.timeout(5000),
      });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(ok.headers.get('vary')).toBe('Origin');
    for (const origin of ['https://app.example.com.evil.net', 'https://evil.net', 'http://app.example.com', 'null']) {
      const refused = await preflight(origin);
      expect(await json(refused)).toEqual({ status: 403, body: { code: 'cors_origin_not_allowed', error: expect.any(String) } });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('puts the CORS headers on event streams and on errors, not for unlisted origins', async () => {
    await using hub = await startTestHub({ HUB_CORS_ORIGINS: 'https://app.example.com' });
    const controller = new AbortController();
    const stream = await fetch(`${hub.url}/events?topic=a`, { headers: { origin: 'https://app.example.com' }, signal: controller.signal });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(stream.headers.get('access-control-allow-credentials')).toBe('true');
    controller.abort();
    const error = await get(`${hub.url}/events`, { origin: 'https://app.example.com' });
    expect(error.status).toBe(400);
    expect(error.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await get(`${hub.url}/events`, { origin: 'https://evil.net' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with "*" allows any origin, without credentials', async () => {
    await using hub = await startTestHub({ HUB_CORS_ORIGINS: '*', HUB_CORS_CREDENTIALS: 'false' });
    const res = await get(`${hub.url}/healthz`, { origin: 'https://anyone.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('connection and rate limits [limits]', () => {
  it('refuses streams past the per-address limit with 429, counting the trusted X-Forwarded-For entry', async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTIONS_PER_ADDRESS: '2', HUB_TRUST_PROXY_HOPS: '1' });
    const open: AbortController[] = [];
    const stream = async (forwardedFor: string) => {
      const controller = new AbortController();
      open.push(controller);
      return fetch(`${hub.url}/events?topic=a`, { headers: { 'x-forwarded-for': forwardedFor }, signal: controller.signal });
    };
    try {
      expect((await stream('1.1.1.1')).status).toBe(200);
      expect((await stream('6.6.6.6, 1.1.1.1')).status).toBe(200); // a forged left entry changes nothing
      const third = await stream('7.7.7.7, 1.1.1.1');
      expect(await json(third)).toEqual({ status: 429, body: { code: 'too_many_connections_from_address', error: expect.stringContaining('at most 2') } });
      expect((await stream('2.2.2.2')).status).toBe(200); // another client is not affected
      open[0]!.abort();
      await withTimeout('a slot to free up', (async () => {
        for (;;) {
          const res = await stream('1.1.1.1');
          if (res.status === 200) return;
          await res.body?.cancel();
          await new Promise((r) => setTimeout(r, 20));
        }
      })());
    } finally {
      for (const c of open) c.abort();
    }
  });

  it('refuses streams past the node total with 503 and Retry-After', async () => {
    await using hub = await startTestHub({ HUB_MAX_CONNECTIONS: '1', HUB_RETRY_MS: '2000' });
    const controller = new AbortController();
    try {
      expect((await fetch(`${hub.url}/events?topic=a`, { signal: controller.signal })).status).toBe(200);
      const full = await get(`${hub.url}/events?topic=a`);
      expect(full.headers.get('retry-after')).toBe('2');
      expect(await json(full)).toMatchObject({ status: 503, body: { code: 'too_many_connections' } });
    } finally {
      controller.abort();
    }
  });

  it('rate-limits publishes per token and per address with 429 and Retry-After', async () => {
    await using hub = await startTestHub({ HUB_PUBLISH_RATE: '1', HUB_PUBLISH_BURST: '3', HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ANONYMOUS_PUBLISH: 'public.>' });
    const post = (topic: string, token?: string) =>
      fetch(`${hub.url}/publish?topic=${topic}`, { method: 'POST', body: 'x', headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
    const alice = await mint({ publish: ['>'] }, { subject: 'alice' });
    const aliceAgain = await mint({ publish: ['>'] }, { subject: 'alice', expiresIn: 120 }); // same principal, new token
    const bob = await mint({ publish: ['>'] }, { subject: 'bob' });
    for (let i = 0; i < 3; i++) expect((await post('t', alice)).status).toBe(200);
    const limited = await post('t', aliceAgain);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await json(limited)).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect((await post('t', bob)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post('public.x')).status).toBe(200);
    expect((await post('public.x')).status).toBe(429);
    expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_requests_rejected_total', { code: 'rate_limited' })).toBe(2);
  });
});

describe('hostile input [limits]', () => {
  let hub: TestHub;
  let healthy: Subscriber;
  beforeAll(async () => {
    hub = await startTestHub({ HUB_HEADERS_TIMEOUT_MS: '500', HUB_REQUEST_TIMEOUT_MS: '1000', HUB_MAX_HEADER_BYTES: '8192' });
    healthy = new Subscriber(hub.url, ['healthy']);
    await healthy.open();
  });
  afterAll(async () => {
    healthy.close();
    await hub.shutdown();
  });
  let publishedToHealthy = 0;
  const pulse = async () => {
    expect((await publish(hub.url, 'healthy', `n${publishedToHealthy++}`)).status).toBe(200);
  };

  const cases: ReadonlyArray<[string, () => string | Buffer, number, string]> = [
    ['a query longer than HUB_MAX_QUERY_BYTES', () => rawGet(`/events?topic=${'a'.repeat(5000)}`), 414, 'query_too_long'],
    ['thousands of topic parameters', () => rawGet(`/events?${'topic=a&'.repeat(400)}`), 400, 'too_many_topics'],
    ['bad percent-encoding', () => rawGet('/events?topic=%E0%A4%A'), 400, 'bad_query'],
    ['percent-encoded invalid UTF-8', () => rawGet('/events?topic=%FF%FE'), 400, 'bad_query'],
    ['raw non-ASCII bytes in the URL', () => Buffer.concat([Buffer.from('GET /events?topic='), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]), 400, 'bad_request'],
    ['headers larger than HUB_MAX_HEADER_BYTES', () => rawGet('/events?topic=a', { 'x-junk': 'j'.repeat(9000) }), 431, 'headers_too_large'],
    ['a huge Last-Event-ID', () => rawGet('/events?topic=a', { 'last-event-id': '9'.repeat(4000) }), 400, 'bad_last_event_id'],
    ['a garbage request line', () => 'HELLO THERE\r\n\r\n', 400, 'bad_request'],
    ['a bare LF request', () => 'GET /events?topic=a HTTP/1.1\nHost: x\n\n', 400, 'bad_request'],
    ['an invalid header name', () => 'GET /events?topic=a HTTP/1.1\r\nHo st: x\r\n\r\n', 400, 'bad_request'],
    ['an invalid UTF-8 body', () => Buffer.concat([Buffer.from('POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n'), Buffer.from([0xc3, 0x28])]), 400, 'bad_payload'],
    ['a body declared larger than the limit', () => 'POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 99999999\r\n\r\n', 413, 'payload_too_large'],
    ['conflicting Content-Length headers', () => 'POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'bad_request'],
  ];

  for (const [name, request, status, code] of cases) {
    it(`answers ${name} with ${status} ${code}`, async () => {
      const answer = await rawRequest(hub.port, request());
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body)).toEqual({ code, error: expect.any(String) });
      await pulse();
    });
  }

  it('answers a Last-Event-ID it never sent (short) with a reset, not an error', async () => {
    const answer = await rawRequest(hub.port, rawGet('/events?topic=a', { 'last-event-id': 'not-ours-1' }));
    expect(answer).toMatchObject({ status: 200, stream: true });
  });

  it('cuts a client that sends its headers too slowly (slowloris) with 408', async () => {
    const socket = connect(hub.port, '127.0.0.1');
    const started = Date.now();
    let got = '';
    socket.on('data', (d) => (got += d));
    socket.write('GET /events?topic=a HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    try {
      await withTimeout('the hub to cut the slow client', new Promise((resolve) => socket.on('close', resolve)), 5000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(Date.now() - started).toBeLessThan(4000);
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
    expect(got).toContain('"code":"request_timeout"');
    await pulse();
  });

  it('cuts a publisher that sends its body too slowly with 408', async () => {
    const socket = connect(hub.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d));
    socket.write('POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc');
    const trickle = setInterval(() => socket.writable && socket.write('x'), 100);
    try {
      await withTimeout('the hub to cut the slow publisher', new Promise((resolve) => socket.on('close', resolve)), 5000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
    await pulse();
  });

  it('keeps an event stream open well past the request timeout', async () => {
    using sub = new Subscriber(hub.url, ['long']);
    await sub.open();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await publish(hub.url, 'long', 'still here')).status).toBe(200);
    expect((await sub.waitForMessages(1))[0]!.data).toBe('still here');
    expect(sub.opens).toBe(1);
  });

  // Last in this block (tests in a file run in order): the subscriber on the side got every event
  // published between the hostile requests above.
  it('kept a healthy stream whole through every hostile request', async () => {
    expect(publishedToHealthy).toBeGreaterThan(0);
    const sent = await publish(hub.url, 'healthy', 'last');
    expect(sent.status).toBe(200);
    const events = await healthy.waitForMessages(publishedToHealthy + 1);
    expect(events.map((e) => e.data)).toEqual([...Array.from({ length: publishedToHealthy }, (_, i) => `n${i}`), 'last']);
  });
});
