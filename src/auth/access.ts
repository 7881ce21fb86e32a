/**
 * Who may subscribe to or publish on which topics. With no key and no auth hook configured the hub
 * is in open (development) mode and allows everything; otherwise a request needs grants that cover
 * every topic it names, except topics covered by the anonymous patterns of that action. Grants come
 * from a valid token, or, for a subscription that presents none, from the auth hook (hook.ts).
 * A token that is presented but bad is always refused, even for public topics, and without asking
 * the hook: a client with a broken token should learn so, not be served silently as someone else.
 * Publishing never asks the hook: it would be answered from cookies, ambient authority that a
 * cross-site form POST carries too (credentials.ts says the same of the token cookie).
 */
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { Action, type TopicGrants } from './claims.js';
import { presentedToken, type RequestFields } from './credentials.js';
import { AuthHook } from './hook.js';
import { anyCovers } from '../topics/coverage.js';
import { TokenVerifier, type VerifiedToken } from './verifier.js';

export { Action };

export interface Permit {
  /** When the credentials stop being valid (epoch ms); streams end then. Undefined: never. */
  readonly expiresAt: number | undefined;
  /** Whom rate limits count against; undefined for anonymous requests (the address is used). */
  readonly principal: string | undefined;
  /**
   * What a stream opened with this permit keeps, so that a reload of the keys or the anonymous
   * patterns can check it again (`revoked`); undefined when nothing a reload changes let it in
   * (open mode, the auth hook's grants).
   */
  readonly credential: StreamCredential | undefined;
  /** The credential's subject (a token's `sub`, the auth hook's `user`); undefined when it names none. */
  readonly user: string | undefined;
}

/**
 * The token a subscription presented (undefined: none, the anonymous patterns let it in) and its
 * topics. The token is kept as it came, because only the token itself can be verified against new
 * keys: a stream holds at most one, no longer than the request head (HUB_MAX_HEADER_BYTES), so
 * these are bounded by HUB_MAX_CONNECTIONS of them; `topics` is the request's own list, not a copy.
 */
export interface StreamCredential {
  readonly token: string | undefined;
  readonly topics: readonly string[];
}

const OPEN: Permit = Object.freeze({ expiresAt: undefined, principal: undefined, credential: undefined, user: undefined });
const SUBJECT_PRINCIPAL = 'sub:';
/** Actions a browser's token cookie may authorize: reading, never changing what others get (credentials.ts). */
const COOKIE_ACTIONS: ReadonlySet<Action> = new Set([Action.Subscribe, Action.Presence]);

/**
 * Actions open mode does not open: changing other users' streams is a backend's right, which even a
 * development hub gives only where HUB_ANONYMOUS_MANAGE says.
 */
const CLOSED_WHEN_OPEN: ReadonlySet<Action> = new Set([Action.Manage]);

/** What a reload replaces as one: the keys, what a token must say, and the anonymous patterns. */
interface Keys {
  readonly verifier: TokenVerifier | undefined;
  readonly cookieName: string | undefined;
  readonly anonymous: Readonly<Record<Action, readonly string[]>>;
}

/**
 * The one holder of the keys and patterns authorization uses: `reconfigure` swaps them in one
 * assignment, so a request being authorized uses the old set or the new one, never a mix. The auth
 * hook is not swapped (its settings are not live): its cache and its calls in flight survive a reload.
 */
export class Access {
  private keys: Keys;
  private readonly hook: AuthHook | undefined;

  constructor(
    config: Config,
    private readonly log: Logger,
  ) {
    this.hook = config.authHook ? new AuthHook(config.authHook, config.maxTopicLength, log) : undefined;
    this.keys = keysOf(config);
    if (this.isOpen) {
      log.warn('OPEN MODE: no HUB_AUTH_* key or auth hook is configured, so anyone who reaches this hub may subscribe to and publish on every topic (development only)');
    } else {
      log.info({ sources: sourcesOf(config), anonymousSubscribe: config.anonymousSubscribe, anonymousPublish: config.anonymousPublish }, 'token authorization on');
    }
  }

  get isOpen(): boolean {
    return this.keys.verifier === undefined && this.hook === undefined;
  }

  /**
   * Take the keys and anonymous patterns of `config` (a reload's, validated). Open mode cannot be
   * switched on or off so (src/reload/ refuses such a reload): every open stream would change meaning.
   */
  reconfigure(config: Config): void {
    const keys = keysOf(config);
    if ((keys.verifier === undefined && this.hook === undefined) !== this.isOpen) throw new Error('a reload cannot switch open mode on or off');
    this.keys = keys;
    this.log.info({ sources: sourcesOf(config), anonymousSubscribe: config.anonymousSubscribe, anonymousPublish: config.anonymousPublish }, 'authorization keys reloaded');
  }

  /**
   * A permit for `action` on every topic in `topics` (validated, prefix-relative), or the refusal.
   * `address` is the client's, shown to the auth hook.
   */
  async authorize(req: RequestFields, action: Action, topics: readonly string[], address?: string): Promise<Permit | HubError> {
    const keys = this.keys;
    if (this.isOpen) {
      if (!CLOSED_WHEN_OPEN.has(action)) return OPEN;
      const closed = topics.find((topic) => !anyCovers(keys.anonymous[action], topic));
      if (closed === undefined) return OPEN;
      return new HubError(ErrorCode.Forbidden, `open mode does not allow ${action} on topic ${JSON.stringify(closed)}: HUB_ANONYMOUS_MANAGE does not cover it`);
    }
    // With no key, nothing is a token: an Authorization header is the backend's to read (hook).
    const token = keys.verifier ? presentedToken(req, COOKIE_ACTIONS.has(action) ? keys.cookieName : undefined) : undefined;
    if (token instanceof HubError) return token;
    const anonymous = keys.anonymous[action];
    if (token === undefined) {
      const closed = topics.find((topic) => !anyCovers(anonymous, topic));
      if (closed === undefined) return { expiresAt: undefined, principal: undefined, credential: { token: undefined, topics }, user: undefined };
      if (this.hook && action === Action.Subscribe) return this.askHook(req, topics, closed, address);
      return new HubError(ErrorCode.Unauthorized, `a token is required to ${action} to topic ${JSON.stringify(closed)}`);
    }
    const verified = await keys.verifier!.verify(token);
    if (verified instanceof HubError) return verified;
    const permit = this.permit(keys, verified, action, topics, 'the token');
    return permit instanceof HubError ? permit : { ...permit, credential: { token, topics } };
  }

  /**
   * The credentials among `credentials` that the current keys and patterns no longer let subscribe
   * to their topics. Each distinct token is verified once, however many streams share it. Only a
   * definite no counts: an expired token's stream ends on its own timer (token-expired), and keys
   * that cannot be fetched now (a JWKS URL that is down) revoke nothing.
   */
  async revoked(credentials: Iterable<StreamCredential>): Promise<Set<StreamCredential>> {
    const keys = this.keys;
    const verdicts = new Map<string, Promise<VerifiedToken | HubError>>();
    const revoked = new Set<StreamCredential>();
    let unavailable = 0;
    for (const credential of credentials) {
      const { token, topics } = credential;
      if (token === undefined) {
        if (!topics.every((topic) => anyCovers(keys.anonymous.subscribe, topic))) revoked.add(credential);
        continue;
      }
      if (keys.verifier === undefined) {
        revoked.add(credential);
        continue;
      }
      let verdict = verdicts.get(token);
      if (verdict === undefined) verdicts.set(token, (verdict = keys.verifier.verify(token)));
      const verified = await verdict;
      if (verified instanceof HubError) {
        if (verified.code === ErrorCode.AuthUnavailable) unavailable++;
        else if (verified.code !== ErrorCode.TokenExpired) revoked.add(credential);
        continue;
      }
      if (this.permit(keys, verified, Action.Subscribe, topics, 'the token') instanceof HubError) revoked.add(credential);
    }
    if (unavailable > 0) this.log.warn({ streams: unavailable }, 'the signing keys could not be fetched while rechecking open streams: those stay open');
    return revoked;
  }

  private async askHook(req: RequestFields, topics: readonly string[], closed: string, address: string | undefined): Promise<Permit | HubError> {
    const cookie = req.header('cookie');
    const authorization = req.header('authorization');
    // Nothing to ask about: every such request would share one cache entry and one answer.
    if (cookie === undefined && authorization === undefined) {
      return new HubError(ErrorCode.Unauthorized, `a session (cookie or Authorization) or a token is required to subscribe to topic ${JSON.stringify(closed)}`);
    }
    const action = Action.Subscribe;
    const answer = await this.hook!.check({ action, topics, cookie, authorization, origin: req.header('origin'), address });
    if (answer instanceof HubError) return answer;
    // The backend's grants are not about the keys: a reload leaves these streams alone.
    return this.permit(this.keys, answer, action, topics, 'the auth backend');
  }

  /** The permit `credential`'s grants give for `action` on `topics`, or the refusal naming `whose` grants fell short. */
  private permit(
    keys: Keys,
    credential: { readonly grants: TopicGrants; readonly expiresAt: number; readonly principal: string },
    action: Action,
    topics: readonly string[],
    whose: string,
  ): Permit | HubError {
    const granted = credential.grants[action];
    const anonymous = keys.anonymous[action];
    const denied = topics.find((topic) => !anyCovers(granted, topic) && !anyCovers(anonymous, topic));
    if (denied !== undefined) {
      return new HubError(ErrorCode.Forbidden, `${whose} does not allow ${action} to topic ${JSON.stringify(denied)}`);
    }
    const { principal } = credential;
    return { expiresAt: credential.expiresAt, principal, credential: undefined, user: principal.startsWith(SUBJECT_PRINCIPAL) ? principal.slice(SUBJECT_PRINCIPAL.length) : undefined };
  }
}

function keysOf(config: Config): Keys {
  return {
    verifier: config.auth ? new TokenVerifier(config.auth, config.maxTopicLength) : undefined,
    cookieName: config.auth?.cookieName,
    anonymous: { subscribe: config.anonymousSubscribe, publish: config.anonymousPublish, manage: config.anonymousManage, presence: config.anonymousPresence },
  };
}

function sourcesOf(config: Config): string[] {
  return [config.auth?.hs256Secret && 'HS256 secret', config.auth?.publicKeyPem && 'public key', config.auth?.jwksUrl && 'JWKS URL', config.authHook && 'auth hook'].filter(
    (source): source is string => typeof source === 'string',
  );
}
