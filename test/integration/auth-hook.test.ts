/**
 * The auth hook end to end: a real hub on port 0 asks a real HTTP backend (started here on port 0,
 * counting its calls) about each subscription that carries no token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { RawStream } from '../helpers/raw-stream.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

interface HookCall {
  readonly headers: IncomingMessage['headers'];
  readonly body: { action?: string; topics?: string[]; address?: string | null };
}

type Behaviour = (call: HookCall, res: ServerResponse) => void | Promise<void>;

/** The backend: answers each call with `behave`, which a test sets; records every call. */
class Backend implements AsyncDisposable {
  readonly calls: HookCall[] = [];
  behave: Behaviour = grant(['user.42.>']);
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as HookCall['body'] };
      this.calls.push(call);
      void this.behave(call, res);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/auth`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function grant(subscribe: string[], expiresInMs = 600_000): Behaviour {
  return (_call, res) => answer(res, 200, { user: 'u-42', subscribe, publish: [], expiresAt: Date.now() + expiresInMs });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** One subscription request; a 200 stream is cut once its headers are in. */
async function subscribe(hub: TestHub, topics: string[], headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  const controller = new AbortController();
  const query = new URLSearchParams(topics.map((t): [string, string] => ['topic', t]));
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    const res = await fetch(`${hub.url}/events?${query}`, { method, headers, signal: controller.signal });
    const json = method !== 'HEAD' && res.headers.get('content-type')?.startsWith('application/json');
    return { status: res.status, headers: res.headers, body: json ? ((await res.json()) as Record<string, unknown>) : undefined };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

let cookieSerial = 0;
/** A cookie no earlier test used: each test starts with an empty cache entry. */
const freshCookie = (): string => `session=s${++cookieSerial}-${Math.random().toString(36).slice(2)}`;

describe('auth hook [auth] [hook]', () => {
  const backend = new Backend();
  let hub: TestHub;
  beforeAll(async () => {
    const url = await backend.start();
    hub = await startTestHub({ HUB_AUTH_HOOK_URL: url, HUB_AUTH_HOOK_TIMEOUT_MS: '300', HUB_ANONYMOUS_PUBLISH: '>', HUB_RETRY_MS: '1000' });
  });
  afterAll(async () => {
    await hub.shutdown();
    await backend[Symbol.asyncDispose]();
  });
  afterEach(() => {
    backend.behave = grant(['user.42.>']);
  });

  it('lets a subscription in on the grants the backend answers, having shown it the credential, origin, address and topics', async () => {
    const cookie = freshCookie();
    const before = backend.calls.length;
    const stream = new RawStream(`${hub.url}/events?topic=user.42.inbox`, { cookie, authorization: 'Session abc', origin: 'https://app.example' });
    try {
      await waitFor('the stream to open', () => stream.status === 200, 5000);
      expect((await publish(hub.url, 'user.42.inbox', 'hello')).status).toBe(200);
      await stream.waitForText('data: hello');
    } finally {
      stream.close();
    }
    expect(backend.calls.length - before).toBe(1);
    const call = backend.calls.at(-1)!;
    expect(call.headers.cookie).toBe(cookie);
    expect(call.headers.authorization).toBe('Session abc');
    expect(call.headers.origin).toBe('https://app.example');
    expect(call.body.action).toBe('subscribe');
    expect(call.body.topics).toEqual(['user.42.inbox']);
    expect(call.body.address).toMatch(/127\.0\.0\.1/);
  });

  it('refuses a topic outside the grants with 403 forbidden_topic', async () => {
    const res = await subscribe(hub, ['user.42.inbox', 'user.43.inbox'], { cookie: freshCookie() });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden_topic' });
    expect(String(res.body!.error)).toContain('user.43.inbox');
  });

  for (const status of [401, 403] as const) {
    it(`passes a ${status} from the backend on to the client as a JSON error`, async () => {
      backend.behave = (_call, res) => answer(res, status, { whatever: 'the backend says' });
      const res = await subscribe(hub, ['user.42.inbox'], { cookie: freshCookie() });
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ code: status === 401 ? 'unauthorized' : 'forbidden_topic' });
    });
  }

  it('refuses a request with neither cookie nor Authorization without asking the backend', async () => {
    const before = backend.calls.length;
    const res = await subscribe(hub, ['user.42.inbox'], {});
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
    expect(backend.calls.length).toBe(before);
  });

  const failures: Record<string, Behaviour> = {
    'a 500': (_call, res) => answer(res, 500, { error: 'db down' }),
    'a 502 with no body': (_call, res) => void res.writeHead(502).end(),
    'a redirect to a login page': (_call, res) => void res.writeHead(302, { location: '/login' }).end(),
    'no answer within the timeout': () => {},
    'a 200 that is not JSON': (_call, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
    'grants without expiresAt': (_call, res) => answer(res, 200, { user: 'u-42', subscribe: ['user.42.>'] }),
    'grants without a user': (_call, res) => answer(res, 200, { subscribe: ['user.42.>'], expiresAt: Date.now() + 60_000 }),
    'grants with a bad pattern': (_call, res) => answer(res, 200, { user: 'u-42', subscribe: ['user..42'], expiresAt: Date.now() + 60_000 }),
    'grants that expired already': (_call, res) => answer(res, 200, { user: 'u-42', subscribe: ['user.42.>'], expiresAt: Date.now() - 1000 }),
  };
  for (const [what, behave] of Object.entries(failures)) {
    it(`fails closed on ${what}: 503 auth_unavailable with Retry-After, no stream opened`, async () => {
      backend.behave = behave;
      const cookie = freshCookie();
      const before = backend.calls.length;
      const res = await subscribe(hub, ['user.42.inbox'], { cookie });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'auth_unavailable' });
      expect(res.headers.get('retry-after')).toBe('1');
      expect(hub.hub.connectionCount).toBe(0);
      // Not cached: the backend, healthy again, is asked by the next attempt.
      backend.behave = grant(['user.42.>']);
      const retry = await subscribe(hub, ['user.42.inbox'], { cookie }, 'HEAD');
      expect(retry.status).toBe(200);
      expect(backend.calls.length - before).toBe(2);
    });
  }

  it('answers later requests with the same credential from the cache, and asks again for another credential', async () => {
    const cookie = freshCookie();
    const before = backend.calls.length;
    for (let i = 0; i < 5; i++) expect((await subscribe(hub, ['user.42.inbox'], { cookie }, 'HEAD')).status).toBe(200);
    // A cached 401 is a credential's answer too.
    const refused = freshCookie();
    backend.behave = (_call, res) => answer(res, 401, {});
    for (let i = 0; i < 3; i++) expect((await subscribe(hub, ['user.42.inbox'], { cookie: refused }, 'HEAD')).status).toBe(401);
    expect(backend.calls.length - before).toBe(2);
    backend.behave = grant(['user.42.>']);
    expect((await subscribe(hub, ['user.42.inbox'], { cookie: freshCookie() }, 'HEAD')).status).toBe(200);
    expect(backend.calls.length - before).toBe(3);
  });

  it('ends the stream when the grants expire, with close reason token-expired', async () => {
    backend.behave = grant(['user.42.>'], 1500);
    const stream = new RawStream(`${hub.url}/events?topic=user.42.inbox`, { cookie: freshCookie() });
    try {
      await waitFor('the stream to open', () => stream.status === 200, 5000);
      await withTimeout('the stream to end at expiresAt', stream.done, 10_000);
    } finally {
      stream.close();
    }
    expect(metricValue(await scrapeMetrics(hub.url), 'ssehub_connections_closed_total', { reason: 'token-expired' })).toBe(1);
  });
});

describe('auth hook under a reconnect storm [auth] [hook]', () => {
  it('asks the backend once for 1,000 simultaneous requests with the same cookie, even with no cache', async () => {
    await using backend = new Backend();
    const url = await backend.start();
    // No cache: only the sharing of the in-flight check can keep the calls at one.
    await using hub = await startTestHub({ HUB_AUTH_HOOK_URL: url, HUB_AUTH_HOOK_CACHE_MS: '0', HUB_AUTH_HOOK_TIMEOUT_MS: '30000' });
    const clients = 1000;
    let arrived = 0;
    hub.server.on('request', () => arrived++);
    // The backend holds its answer until every request has reached the hub: a request parsed by then
    // has run up to its hook check (microtasks only), so each one is in flight with the first.
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    backend.behave = async (call, res) => {
      await allArrived;
      await grant(['user.42.>'])(call, res);
    };
    const cookie = freshCookie();
    const answers = Promise.all(Array.from({ length: clients }, () => subscribe(hub, ['user.42.inbox'], { cookie }, 'HEAD')));
    await waitFor(`${clients} requests to reach the hub (have ${arrived})`, () => arrived >= clients, 20_000);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const statuses = (await withTimeout('1,000 answers', answers, 20_000)).map((a) => a.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(backend.calls).toHaveLength(1);
  });
});

describe('auth hook with token keys [auth] [hook]', () => {
  const backend = new Backend();
  let hub: TestHub;
  beforeAll(async () => {
    const url = await backend.start();
    hub = await startTestHub({ HUB_AUTH_HOOK_URL: url, HUB_AUTH_HS256_SECRET: HS256_SECRET });
  });
  afterAll(async () => {
    await hub.shutdown();
    await backend[Symbol.asyncDispose]();
  });

  it('does not call the hook for a valid token, refuses a bad token without calling it, and calls it without a token', async () => {
    const token = await mint({ subscribe: ['user.42.>'] });
    const withToken = await subscribe(hub, ['user.42.inbox'], { authorization: `Bearer ${token}`, cookie: freshCookie() }, 'HEAD');
    expect(withToken.status).toBe(200);
    const badToken = await subscribe(hub, ['user.42.inbox'], { authorization: `Bearer ${token.slice(0, -4)}AAAA`, cookie: freshCookie() });
    expect(badToken.status).toBe(401);
    expect(badToken.body).toMatchObject({ code: 'token_invalid' });
    expect(backend.calls).toHaveLength(0);
    const withSession = await subscribe(hub, ['user.42.inbox'], { cookie: freshCookie() }, 'HEAD');
    expect(withSession.status).toBe(200);
    expect(backend.calls).toHaveLength(1);
  });

  it('never asks the hook about publishing: a session cookie cannot publish', async () => {
    const before = backend.calls.length;
    const res = await fetch(`${hub.url}/publish?topic=user.42.inbox`, { method: 'POST', body: 'x', headers: { cookie: freshCookie() }, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(401);
    expect(backend.calls.length).toBe(before);
  });
});
