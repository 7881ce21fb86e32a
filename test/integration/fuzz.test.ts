/**
 * Property-based fuzzing of the HTTP edge with fast-check: random topics, ids, event types, headers,
 * tokens and bodies, sent as raw bytes to a real hub (auth, rate and address limits on). Every
 * answer must be a well-formed HTTP response, a JSON {"error","code"} for every 4xx/5xx, never a 500;
 * and a valid subscriber on the side must get every event published to it meanwhile, in order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestHub } from '../helpers/hub.js';
import { rawRequest } from '../helpers/raw-http.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

/** Percent-encode every byte outside unreserved characters (lone surrogates become U+FFFD, as in UTF-8). */
const pct = (text: string): string =>
  [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

// Mostly plausible input, so requests reach authorization and the routes; some of it hostile.
const tokenWord = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('a', 'b', 'orders', 'pub', 'side', 'channel', '42', '*', '>') },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(300), 'ünï', '%', '\u0000', ' ', '\r\n') },
);
const topic = fc.oneof(
  { weight: 8, arbitrary: fc.array(tokenWord, { minLength: 1, maxLength: 4 }).map((t) => t.join('.')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);
const topics = fc.oneof({ weight: 8, arbitrary: fc.array(topic, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(topic, { maxLength: 40 }) });
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z.]{1,12}$/) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('message', 'hub.open', 'a\nb', 'x'.repeat(200))) },
);
const lastEventId = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('0-0', 'abc-1', '9'.repeat(100)), fc.string({ unit: 'binary', maxLength: 80 })) },
);
const headerValue = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(20_000)) },
);
const headerName = fc.constantFrom('Authorization', 'Cookie', 'Last-Event-ID', 'Origin', 'X-Forwarded-For', 'Content-Type', 'Content-Length', 'Transfer-Encoding', 'X-Random', 'Bad Name', 'Ünicode');
const body = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }).map((s) => new Uint8Array(Buffer.from(s))) },
  { weight: 1, arbitrary: fc.integer({ min: 65_000, max: 70_000 }).map((n) => new Uint8Array(n).fill(97)) },
);

type TokenKind = 'none' | 'valid' | 'garbage' | 'expired';
const grantPool = ['pub.>', 'a.*', 'orders.>', 'a', '>'];
const request = fc.record({
  kind: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('events', 'publish') }, { weight: 1, arbitrary: fc.constant('other') }),
  topics,
  event: fc.option(anyText, { nil: undefined }),
  lastEventId,
  rawQuery: fc.integer({ min: 0, max: 9 }).map((n) => n === 0), // sometimes unencoded (may break the request line)
  token: fc.constantFrom<TokenKind>('none', 'valid', 'garbage', 'expired'),
  how: fc.constantFrom('bearer', 'cookie', 'query'),
  subscribeGrants: fc.subarray(grantPool),
  publishGrants: fc.subarray(grantPool.filter((g) => g !== '>')), // never the side channel
  headers: fc.oneof({ weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }) }),
  body,
  path: fc.constantFrom('/nope', '/events/', '/EVENTS', '//events', '/publish?', '/metrics', '/healthz'),
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'BREW'),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function build(r: FuzzRequest): Promise<Buffer> {
  const enc = (s: string) => (r.rawQuery ? s : pct(s));
  // A publish names one topic; send more only sometimes (to hit the "exactly one" check).
  const chosen = r.kind === 'publish' && r.topics.length > 1 && r.topics.length < 4 ? r.topics.slice(0, 1) : r.topics;
  const params: string[] = chosen.map((t) => `topic=${enc(t)}`);
  if (r.event !== undefined) params.push(`event=${enc(r.event)}`);
  let token: string | undefined;
  if (r.token === 'valid') token = await mint({ subscribe: r.subscribeGrants, publish: r.publishGrants });
  if (r.token === 'expired') token = await mint({ subscribe: ['>'] }, { expiresIn: -5 });
  if (r.token === 'garbage') token = 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA';
  const headers: Array<[string, string]> = [['Host', '127.0.0.1'], ['Connection', 'close']];
  if (token && r.how === 'query') params.push(`access_token=${token}`);
  if (token && r.how === 'bearer') headers.push(['Authorization', `Bearer ${token}`]);
  if (token && r.how === 'cookie') headers.push(['Cookie', `ssehub_token=${token}`]);
  if (r.lastEventId !== undefined) headers.push(['Last-Event-ID', r.lastEventId]);
  headers.push(...r.headers);
  const query = params.length ? `?${params.join('&')}` : '';
  const [method, target] = r.kind === 'events' ? ['GET', `/events${query}`] : r.kind === 'publish' ? ['POST', `/publish${query}`] : [r.method, r.path + query];
  const hasBody = method === 'POST' || method === 'PUT';
  if (hasBody && !r.headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) headers.push(['Content-Length', String(r.body.length)]);
  const head = `${method} ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), hasBody ? r.body : Buffer.alloc(0)]);
}

describe('fuzzing the HTTP edge [fuzz]', () => {
  it('answers every random request well-formed, and the side subscriber misses nothing', async () => {
    await using hub = await startTestHub({
      HUB_AUTH_HS256_SECRET: HS256_SECRET,
      HUB_AUTH_CLOCK_TOLERANCE_S: '0',
      HUB_ANONYMOUS_SUBSCRIBE: 'pub.>',
      HUB_ANONYMOUS_PUBLISH: 'pub.>',
      HUB_PUBLISH_RATE: '200',
      HUB_PUBLISH_BURST: '50',
      HUB_MAX_CONNECTIONS_PER_ADDRESS: '50',
      HUB_HEADERS_TIMEOUT_MS: '2000',
    });
    const sideToken = await mint({ subscribe: ['side.>'] }, { expiresIn: 600 });
    const sidePublisher = await mint({ publish: ['side.>'] }, { subject: 'side-publisher', expiresIn: 600 });
    using side = new Subscriber(hub.url, ['side.channel'], { headers: () => ({ authorization: `Bearer ${sideToken}` }) });
    await side.open();
    let sent = 0;
    let runs = 0;
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const answer = await rawRequest(hub.port, await build(r), 5000);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const code = answer.status >= 400 && answer.body.startsWith('{') ? (JSON.parse(answer.body) as { code: string }).code : String(answer.status);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(600);
        expect(answer.status).not.toBe(500);
        const head = r.kind === 'other' && r.method === 'HEAD'; // a HEAD answer has no body, by definition
        if (answer.status >= 400) {
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
          if (!head) expect(JSON.parse(answer.body)).toEqual({ error: expect.any(String), code: expect.stringMatching(/^[a-z_]+$/) });
        }
        if (answer.status === 200 && r.kind === 'events') expect(answer.stream).toBe(true);
        if (++runs % 5 === 0) {
          const res = await fetch(`${hub.url}/publish?topic=side.channel`, {
            method: 'POST',
            body: `side-${sent}`,
            headers: { authorization: `Bearer ${sidePublisher}` },
            signal: AbortSignal.timeout(5000),
          });
          expect(res.status).toBe(200);
          await res.body?.cancel();
          sent++;
        }
      }),
      { numRuns: 400, interruptAfterTimeLimit: 45_000 },
    );

    const expected = Array.from({ length: sent }, (_, i) => `side-${i}`);
    await waitFor(`${sent} side events (have ${side.messages.length})`, () => side.messages.length >= sent, 10_000);
    expect(side.messages.map((m) => m.data)).toEqual(expected);
    expect(side.resets).toHaveLength(0);
    expect(side.opens).toBe(1);
    console.log(`fuzz: answers by code ${JSON.stringify(Object.fromEntries([...codes].sort()))}; side events ${sent}`);
    // The fuzzer is not just sending noise: a good share of requests got past validation.
    const deep = [200, 202, 401, 403, 413, 429].reduce((n, s) => n + (statuses.get(s) ?? 0), 0);
    expect(deep).toBeGreaterThan(40);
  }, 90_000);
});
