/**
 * Token authorization end to end: real hub on port 0, tokens minted with jose, the real `eventsource`
 * client presenting them by header, cookie and query, and a JWKS served by a real local HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { Subscriber } from '../helpers/sse-client.js';
import { HS256_SECRET, keyPair, mint, serveJwks, tamper, unsignedToken } from '../helpers/tokens.js';
import { sleep, waitFor } from '../helpers/wait.js';

const AUD = 'ssehub-test';
const ISS = 'backend-test';
const hs256Env = { HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_AUTH_AUDIENCE: AUD, HUB_AUTH_ISSUER: ISS, HUB_AUTH_CLOCK_TOLERANCE_S: '0', HUB_RETRY_MS: '100' };
const good = { audience: AUD, issuer: ISS } as const;

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  headers: Headers;
}

/** One request; a 200 event stream is cut as soon as its headers are in. */
async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const res = await fetch(url, { ...init, signal: controller.signal });
    const isStream = res.headers.get('content-type')?.startsWith('text/event-stream');
    const body = isStream ? undefined : ((await res.json()) as Record<string, unknown>);
    return { status: res.status, body, headers: res.headers };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

type Presentation = 'bearer' | 'cookie' | 'query';
const PRESENTATIONS: readonly Presentation[] = ['bearer', 'cookie', 'query'];

function subscribeUrl(hub: TestHub, topics: readonly string[], token: string | undefined, how: Presentation): [string, RequestInit] {
  const query = new URLSearchParams(topics.map((t): [string, string] => ['topic', t]));
  if (token !== undefined && how === 'query') query.set('access_token', token);
  const headers: Record<string, string> = {};
  if (token !== undefined && how === 'bearer') headers.authorization = `Bearer ${token}`;
  if (token !== undefined && how === 'cookie') headers.cookie = `other=1; ssehub_token=${token}`;
  return [`${hub.url}/events?${query}`, { headers }];
}

async function publishWith(hub: TestHub, topic: string, data: string, token?: string): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return request(`${hub.url}/publish?topic=${encodeURIComponent(topic)}`, { method: 'POST', body: data, headers });
}

describe('token authorization [auth]', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ ...hs256Env, HUB_ANONYMOUS_SUBSCRIBE: 'news.>' });
  });
  afterAll(() => hub.shutdown());

  for (const how of PRESENTATIONS) {
    it(`delivers events to a subscriber presenting its token by ${how}`, async () => {
      const token = await mint({ subscribe: ['user.42.>'] }, good);
      const sub = new Subscriber(hub.url, ['user.42.inbox'], {
        headers: how === 'query' ? undefined : (): Record<string, string> => (how === 'bearer' ? { authorization: `Bearer ${token}` } : { cookie: `ssehub_token=${token}` }),
        query: how === 'query' ? { access_token: token } : undefined,
      });
      try {
        await sub.open();
        const publisher = await mint({ publish: ['user.*.inbox'] }, good);
        expect((await publishWith(hub, 'user.42.inbox', `hello via ${how}`, publisher)).status).toBe(200);
        const [event] = await sub.waitForMessages(1);
        expect(event!.data).toBe(`hello via ${how}`);
      } finally {
        sub.close();
      }
    });
  }

  it('refuses a subscription without a token with 401, a challenge and JSON', async () => {
    const answer = await request(`${hub.url}/events?topic=user.42.inbox`);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(answer.body).toEqual({ code: 'unauthorized', error: expect.stringContaining('"user.42.inbox"') });
  });

  const badTokens: ReadonlyArray<[string, () => Promise<string>, string, RegExp]> = [
    ['expired', () => mint({ subscribe: ['>'] }, { ...good, expiresIn: -10 }), 'token_expired', /expired/],
    ['not yet valid', () => mint({ subscribe: ['>'] }, { ...good, notBefore: 60 }), 'token_invalid', /nbf/],
    ['for another audience', () => mint({ subscribe: ['>'] }, { ...good, audience: 'someone-else' }), 'token_invalid', /aud/],
    ['from another issuer', () => mint({ subscribe: ['>'] }, { ...good, issuer: 'mallory' }), 'token_invalid', /iss/],
    ['signed with another key', () => mint({ subscribe: ['>'] }, { ...good, key: new TextEncoder().encode('x'.repeat(40)) }), 'token_invalid', /signature/],
    ['unsigned (alg none)', async () => unsignedToken({ ssehub: { subscribe: ['>'] }, aud: AUD, iss: ISS, exp: Math.floor(Date.now() / 1000) + 60 }), 'token_invalid', /alg/],
    [
      'with a tampered payload',
      async () => tamper(await mint({ subscribe: ['news.x'] }, good), { ssehub: { subscribe: ['>'] }, aud: AUD, iss: ISS, exp: Math.floor(Date.now() / 1000) + 60 }),
      'token_invalid',
      /signature/,
    ],
    ['without exp', () => mint({ subscribe: ['>'] }, { ...good, expiresIn: null }), 'token_invalid', /exp/],
    ['with a malformed claim', () => mint({}, { ...good, payload: { ssehub: { subscribe: 'user.>' } } }), 'token_invalid', /must be an array/],
    ['that is not a JWT', async () => 'not-a-jwt', 'token_invalid', /^token rejected: Invalid Compact JWS$/],
  ];

  for (const [name, make, code, reason] of badTokens) {
    it(`refuses a token ${name}, however it is presented`, async () => {
      const token = await make();
      for (const how of PRESENTATIONS) {
        const answer = await request(...subscribeUrl(hub, ['user.42.inbox'], token, how));
        expect({ how, status: answer.status, code: answer.body?.code }).toEqual({ how, status: 401, code });
        expect(answer.body?.error).toMatch(reason);
      }
      // A bad token is refused even for a public topic: the client should learn its token is broken.
      const pub = await request(...subscribeUrl(hub, ['news.today'], token, 'bearer'));
      expect(pub.status).toBe(401);
    });
  }

  it('refuses a non-Bearer Authorization header', async () => {
    const answer = await request(`${hub.url}/events?topic=news.x`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toMatch(/Bearer/);
  });

  it('applies wildcard coverage: a wildcard subscription needs a grant covering all of it', async () => {
    const token = await mint({ subscribe: ['user.42.>', 'rooms.*.chat'] }, good);
    const cases: Array<[string, number]> = [
      ['user.42.inbox', 200],
      ['user.42.*', 200],
      ['user.42.>', 200],
      ['user.42.a.b.c', 200],
      ['user.42', 403],
      ['user.*', 403],
      ['user.*.inbox', 403],
      ['user.43.inbox', 403],
      ['>', 403],
      ['rooms.7.chat', 200],
      ['rooms.*.chat', 200],
      ['rooms.>', 403],
      ['news.anything', 200], // public by HUB_ANONYMOUS_SUBSCRIBE
    ];
    for (const [topic, status] of cases) {
      const answer = await request(...subscribeUrl(hub, [topic], token, 'bearer'));
      expect({ topic, status: answer.status }).toEqual({ topic, status });
      if (status === 403) expect(answer.body).toEqual({ code: 'forbidden_topic', error: expect.stringContaining(JSON.stringify(topic)) });
    }
    // One forbidden topic among allowed ones refuses the whole subscription, naming that topic.
    const mixed = await request(...subscribeUrl(hub, ['user.42.inbox', 'user.43.inbox'], token, 'bearer'));
    expect(mixed.status).toBe(403);
    expect(mixed.body?.error).toContain('"user.43.inbox"');
  });

  it('lets anonymous clients subscribe to public topics only', async () => {
    expect((await request(`${hub.url}/events?topic=news.today`)).status).toBe(200);
    expect((await request(`${hub.url}/events?topic=news.*`)).status).toBe(200);
    expect((await request(`${hub.url}/events?topic=news.today&topic=user.1.inbox`)).status).toBe(401);
    expect((await request(`${hub.url}/events?topic=>`)).status).toBe(401);
  });

  it('requires publish rights to publish, and never takes a cookie for it', async () => {
    const subscriber = await mint({ subscribe: ['>'] }, good);
    const publisher = await mint({ publish: ['orders.*'] }, good);
    expect((await publishWith(hub, 'orders.1', 'x')).status).toBe(401);
    expect((await publishWith(hub, 'news.today', 'x')).status).toBe(401); // public for subscribing only
    const denied = await publishWith(hub, 'orders.1', 'x', subscriber);
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ code: 'forbidden_topic', error: expect.stringContaining('"orders.1"') });
    expect((await publishWith(hub, 'orders.1', 'x', publisher)).status).toBe(200);
    expect((await publishWith(hub, 'orders.1.items', 'x', publisher)).status).toBe(403);
    const viaCookie = await request(`${hub.url}/publish?topic=orders.1`, { method: 'POST', body: 'x', headers: { cookie: `ssehub_token=${publisher}` } });
    expect(viaCookie.status).toBe(401);
    const viaQuery = await request(`${hub.url}/publish?topic=orders.1&access_token=${publisher}`, { method: 'POST', body: 'x' });
    expect(viaQuery.status).toBe(200);
  });

  it('counts refusals by code in the metrics', async () => {
    const text = await scrapeMetrics(hub.url);
    for (const code of ['unauthorized', 'token_invalid', 'token_expired', 'forbidden_topic']) {
      expect(metricValue(text, 'ssehub_requests_rejected_total', { code }), code).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('public keys and JWKS [auth]', () => {
  for (const alg of ['RS256', 'ES256'] as const) {
    it(`verifies ${alg} tokens against a PEM public key and refuses algorithm confusion`, async () => {
      const pair = await keyPair(alg);
      const other = await keyPair(alg);
      await using hub = await startTestHub({ HUB_AUTH_PUBLIC_KEY: pair.publicPem.replaceAll('\n', '\\n'), HUB_AUTH_CLOCK_TOLERANCE_S: '0' });
      const ok = await mint({ subscribe: ['a.>'] }, { alg, key: pair.privateKey });
      expect((await request(...subscribeUrl(hub, ['a.b'], ok, 'bearer'))).status).toBe(200);
      const wrongKey = await mint({ subscribe: ['a.>'] }, { alg, key: other.privateKey });
      expect((await request(...subscribeUrl(hub, ['a.b'], wrongKey, 'bearer'))).body?.code).toBe('token_invalid');
      // HS256 "signed" with the public key text: accepted by libraries that let the token choose.
      const confused = await mint({ subscribe: ['a.>'] }, { alg: 'HS256', key: new TextEncoder().encode(pair.publicPem) });
      const answer = await request(...subscribeUrl(hub, ['a.b'], confused, 'bearer'));
      expect(answer.status).toBe(401);
      expect(answer.body?.error).toMatch(/alg/);
    });
  }

  it('verifies tokens against a JWKS served over HTTP, by kid', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const ec = await keyPair('ES256', 'ec-1');
    const stranger = await keyPair('RS256', 'unknown');
    await using jwks = await serveJwks([rsa, ec]);
    await using hub = await startTestHub({ HUB_AUTH_JWKS_URL: jwks.url, HUB_AUTH_AUDIENCE: AUD });
    for (const pair of [rsa, ec]) {
      const token = await mint({ subscribe: ['a.>'] }, { alg: pair.alg, key: pair.privateKey, kid: pair.kid, audience: AUD });
      expect((await request(...subscribeUrl(hub, ['a.b'], token, 'bearer'))).status).toBe(200);
    }
    const unknown = await mint({ subscribe: ['a.>'] }, { alg: 'RS256', key: stranger.privateKey, kid: stranger.kid, audience: AUD });
    expect((await request(...subscribeUrl(hub, ['a.b'], unknown, 'bearer'))).body?.code).toBe('token_invalid');
    expect(jwks.hits()).toBeGreaterThanOrEqual(1);
  });

  // jose, which fetches the key set, refetches it for an unknown kid at most once per 30 s
  // (cooldownDuration), so the new key is taken within about that; the test waits for it.
  it('rotates keys live: a new kid is fetched from the JWKS, and the key it dropped is refused after', { timeout: 90_000 }, async () => {
    const before = await keyPair('ES256', 'key-2026-11');
    const after = await keyPair('ES256', 'key-2026-12');
    await using jwks = await serveJwks([before]);
    await using hub = await startTestHub({ HUB_AUTH_JWKS_URL: jwks.url, HUB_AUTH_AUDIENCE: AUD });
    const tokenOf = (pair: typeof before) => mint({ subscribe: ['a.>'] }, { alg: pair.alg, key: pair.privateKey, kid: pair.kid, audience: AUD });
    const oldToken = await tokenOf(before);
    const newToken = await tokenOf(after);
    expect((await request(...subscribeUrl(hub, ['a.b'], oldToken, 'bearer'))).status).toBe(200);
    expect(jwks.hits()).toBe(1);

    // The identity provider rotates: the new key replaces the old one in the set.
    await jwks.serve([after]);
    const answers = await waitFor(
      'the hub to take the new key',
      async () => {
        const answer = await request(...subscribeUrl(hub, ['a.b'], newToken, 'bearer'));
        // Until the refetch, an unknown kid is an invalid token, nothing else.
        if (answer.status !== 200) expect(answer.body?.code).toBe('token_invalid');
        return answer.status === 200 && answer;
      },
      60_000,
      250,
    );
    expect(answers.status).toBe(200);
    expect(jwks.hits()).toBe(2);
    // The set the hub holds now is the new one: the dropped key no longer verifies anything.
    expect((await request(...subscribeUrl(hub, ['a.b'], oldToken, 'bearer'))).body?.code).toBe('token_invalid');
  });

  it('answers 503 when the JWKS cannot be fetched', async () => {
    const jwks = await serveJwks([]);
    const url = jwks.url;
    await jwks.close(); // nothing listens there now
    await using hub = await startTestHub({ HUB_AUTH_JWKS_URL: url });
    const pair = await keyPair('RS256');
    const token = await mint({ subscribe: ['a.>'] }, { alg: 'RS256', key: pair.privateKey, kid: pair.kid });
    const answer = await request(...subscribeUrl(hub, ['a.b'], token, 'bearer'));
    expect(answer).toMatchObject({ status: 503, body: { code: 'auth_unavailable' } });
  });
});

for (const kind of busKinds()) {
  describe(`token expiry on an open stream [auth] [${kind.name}]`, () => {
    afterAll(() => kind.dispose());

    it('ends the stream at expiry; the client reconnects with a fresh token and resumes without loss', async () => {
      await using hub = await startTestHub({ ...hs256Env, ...(await kind.env()) });
      // exp has whole seconds: 3 leaves 2 to 3 s to open and receive one event first.
      let token = await mint({ subscribe: ['user.7.>'] }, { ...good, expiresIn: 3 });
      const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
      const publisher = await mint({ publish: ['>'] }, { ...good, expiresIn: 600 });
      using sub = new Subscriber(hub.url, ['user.7.inbox'], { headers: () => ({ authorization: `Bearer ${token}` }) });
      await sub.open();
      await publishWith(hub, 'user.7.inbox', 'before', publisher);
      await sub.waitForMessages(1);
      // The client refreshes its token; the open stream still ends when the old one expires.
      token = await mint({ subscribe: ['user.7.>'] }, { ...good, expiresIn: 600 });
      await waitFor('the stream to end at expiry', () => sub.errors >= 1, 6000);
      const endedAt = Date.now();
      expect(endedAt).toBeGreaterThanOrEqual(expiresAt - 50);
      expect(endedAt).toBeLessThan(expiresAt + 2000);
      await publishWith(hub, 'user.7.inbox', 'during the gap', publisher);
      await sub.open(2);
      await publishWith(hub, 'user.7.inbox', 'after', publisher);
      const events = await sub.waitForMessages(3);
      expect(events.map((e) => e.data)).toEqual(['before', 'during the gap', 'after']);
      expect(sub.resets).toHaveLength(0);
      expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_connections_closed_total', { reason: 'token-expired' })).toBe(1);
    });

    it('a client that keeps its expired token is refused on reconnect with token_expired', async () => {
      await using hub = await startTestHub({ ...hs256Env, ...(await kind.env()) });
      const token = await mint({ subscribe: ['user.7.>'] }, { ...good, expiresIn: 2 });
      using sub = new Subscriber(hub.url, ['user.7.inbox'], { headers: () => ({ authorization: `Bearer ${token}` }) });
      await sub.open();
      // The eventsource client gives up (readyState CLOSED) on a non-200 answer.
      await waitFor('the client to give up', () => sub.source.readyState === 2, 8000);
      const answer = await request(...subscribeUrl(hub, ['user.7.inbox'], token, 'bearer'));
      expect(answer.body?.code).toBe('token_expired');
      await sleep(10);
    });
  });
}
