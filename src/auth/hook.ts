/**
 * The auth hook: for a subscription that carries no token, the hub asks a backend
 * (HUB_AUTH_HOOK_URL) what the request's credential may do, as nginx's auth_request and
 * Centrifugo's connect proxy do. docs/security.md states the exchange:
 *
 *   POST <url>   Cookie, Authorization, Origin as the client sent them
 *   {"action": "subscribe", "topics": ["orders.42"], "address": "203.0.113.7"}
 *
 *   200 {"user": "u-42", "subscribe": ["orders.>"], "publish": [], "expiresAt": 1767225600000}
 *   401 / 403    refused; passed on to the client
 *
 * An answer is about the credential (the Cookie and Authorization headers), not about one request:
 * it is cached per credential and checked against each request's topics by the hub. Fail closed:
 * a backend that is down, slow, or answers anything else makes the hub answer 503, never let in.
 */
import { createHash } from 'node:crypto';
import type { HookConfig } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { Lru } from '../limits/lru.js';
import { readTopicLists, type Action, type TopicGrants } from './claims.js';

/** What a request shows the backend. */
export interface HookRequest {
  readonly action: Action;
  readonly topics: readonly string[];
  readonly cookie: string | undefined;
  readonly authorization: string | undefined;
  readonly origin: string | undefined;
  /** The client's address as the hub sees it (HUB_TRUST_PROXY_HOPS applied); undefined when not known. */
  readonly address: string | undefined;
}

export interface HookGrants {
  readonly grants: TopicGrants;
  /** When the grants stop being valid (epoch ms); streams end then. */
  readonly expiresAt: number;
  /** Whom the grants speak for (`sub:` + the answer's user, as a token's `sub`). */
  readonly principal: string;
}

export type HookAnswer = HookGrants | HubError;

interface Cached {
  readonly answer: HookAnswer;
  /** Epoch ms after which the answer is asked again. */
  readonly until: number;
}

export class AuthHook {
  private readonly cache: Lru<string, Cached>;
  // A reconnect storm (1,000 tabs with one session after a deploy) asks once: later checks of the
  // same credential wait for the call under way.
  private readonly inFlight = new Map<string, Promise<HookAnswer>>();

  constructor(
    private readonly config: HookConfig,
    private readonly maxTopicLength: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new Lru(config.cacheMax);
  }

  /** The backend's grants for the request's credential, from the cache when fresh, or the refusal. */
  async check(request: HookRequest): Promise<HookAnswer> {
    const key = credentialKey(request);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (cached.until > this.now()) return cached.answer;
      this.cache.delete(key);
    }
    let call = this.inFlight.get(key);
    if (call === undefined) {
      call = this.ask(request).then((answer) => {
        this.remember(key, answer);
        return answer;
      });
      this.inFlight.set(key, call);
      void call.finally(() => this.inFlight.delete(key));
    }
    return call;
  }

  /** Grants and refusals are kept; an unavailable backend is asked again by the next request. */
  private remember(key: string, answer: HookAnswer): void {
    if (this.config.cacheMs === 0) return;
    if (answer instanceof HubError && answer.code === ErrorCode.AuthUnavailable) return;
    const until = this.now() + this.config.cacheMs;
    this.cache.set(key, { answer, until: answer instanceof HubError ? until : Math.min(until, answer.expiresAt) });
  }

  private async ask(request: HookRequest): Promise<HookAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (request.cookie !== undefined) headers.cookie = request.cookie;
    if (request.authorization !== undefined) headers.authorization = request.authorization;
    if (request.origin !== undefined) headers.origin = request.origin;
    const body = JSON.stringify({ action: request.action, topics: request.topics, address: request.address ?? null });
    let status: number;
    let text: string;
    try {
      // The timeout covers the body too: a backend that sends headers and stalls is as slow as one that says nothing.
      // No redirects: a 302 to a login page is the backend's way of saying no to a browser, not an answer.
      const res = await fetch(this.config.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      this.log.warn({ err, url: this.config.url }, timedOut ? `auth hook gave no answer within ${this.config.timeoutMs} ms` : 'auth hook could not be reached');
      return unavailable(timedOut ? 'did not answer in time' : 'could not be reached', err);
    }
    if (status === 401) return new HubError(ErrorCode.Unauthorized, 'the auth backend does not accept these credentials');
    if (status === 403) return new HubError(ErrorCode.Forbidden, 'the auth backend does not allow this subscription');
    if (status !== 200) {
      this.log.warn({ url: this.config.url, status }, 'auth hook answered neither 200, 401 nor 403');
      return unavailable(`answered ${status}`);
    }
    const grants = this.readAnswer(text);
    if (typeof grants === 'string') {
      this.log.error({ url: this.config.url, problem: grants }, 'auth hook answered 200 with grants the hub cannot use');
      return unavailable('gave an unusable answer');
    }
    return grants;
  }

  /** The grants in a 200 answer's body, or a sentence saying what is wrong with it. */
  private readAnswer(text: string): HookGrants | string {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return 'the body is not JSON';
    }
    const grants = readTopicLists(answer, (field) => (field === undefined ? 'the answer' : `"${field}"`), this.maxTopicLength);
    if (typeof grants === 'string') return grants;
    const { user, expiresAt } = answer as Record<string, unknown>;
    if (typeof user !== 'string' || user === '') return '"user" must be a non-empty string';
    // Required, as `exp` is for tokens: a stream opened on a session must end when the session may have.
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt)) return '"expiresAt" must be a time in epoch milliseconds';
    if (expiresAt <= this.now()) return `"expiresAt" (${new Date(expiresAt).toISOString()}) has passed: is the backend's clock right?`;
    return { grants, expiresAt, principal: `sub:${user}` };
  }
}

/** The credential's cache key: a hash, so the cache holds no cookie a heap snapshot could leak. */
function credentialKey(request: HookRequest): string {
  // A newline cannot occur in a header value, so no two pairs of headers give the same text.
  return createHash('sha256').update(`${request.cookie ?? ''}\n${request.authorization ?? ''}`).digest('base64url');
}

function unavailable(what: string, cause?: unknown): HubError {
  return new HubError(ErrorCode.AuthUnavailable, `the auth backend ${what}; retry later`, { cause });
}
