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
import { TokenVerifier } from './verifier.js';

export { Action };

export interface Permit {
  /** When the credentials stop being valid (epoch ms); streams end then. Undefined: never. */
  readonly expiresAt: number | undefined;
  /** Whom rate limits count against; undefined for anonymous requests (the address is used). */
  readonly principal: string | undefined;
  /** The credential's subject (a token's `sub`, the auth hook's `user`); undefined when it names none. */
  readonly user: string | undefined;
}

const OPEN: Permit = Object.freeze({ expiresAt: undefined, principal: undefined, user: undefined });
const SUBJECT_PRINCIPAL = 'sub:';
/** Actions a browser's token cookie may authorize: reading, never changing what others get (credentials.ts). */
const COOKIE_ACTIONS: ReadonlySet<Action> = new Set([Action.Subscribe, Action.Presence]);

/**
 * Actions open mode does not open: changing other users' streams is a backend's right, which even a
 * development hub gives only where HUB_ANONYMOUS_MANAGE says.
 */
const CLOSED_WHEN_OPEN: ReadonlySet<Action> = new Set([Action.Manage]);

export class Access {
  private readonly verifier: TokenVerifier | undefined;
  private readonly hook: AuthHook | undefined;
  private readonly anonymous: Readonly<Record<Action, readonly string[]>>;

  constructor(
    private readonly config: Config,
    log: Logger,
  ) {
    this.verifier = config.auth ? new TokenVerifier(config.auth, config.maxTopicLength) : undefined;
    this.hook = config.authHook ? new AuthHook(config.authHook, config.maxTopicLength, log) : undefined;
    this.anonymous = { subscribe: config.anonymousSubscribe, publish: config.anonymousPublish, manage: config.anonymousManage, presence: config.anonymousPresence };
    if (this.isOpen) {
      log.warn('OPEN MODE: no HUB_AUTH_* key or auth hook is configured, so anyone who reaches this hub may subscribe to and publish on every topic (development only)');
    } else {
      const sources = [config.auth?.hs256Secret && 'HS256 secret', config.auth?.publicKeyPem && 'public key', config.auth?.jwksUrl && 'JWKS URL', config.authHook && 'auth hook'].filter(Boolean);
      log.info({ sources, anonymousSubscribe: config.anonymousSubscribe, anonymousPublish: config.anonymousPublish }, 'token authorization on');
    }
  }

  get isOpen(): boolean {
    return this.verifier === undefined && this.hook === undefined;
  }

  /**
   * A permit for `action` on every topic in `topics` (validated, prefix-relative), or the refusal.
   * `address` is the client's, shown to the auth hook.
   */
  async authorize(req: RequestFields, action: Action, topics: readonly string[], address?: string): Promise<Permit | HubError> {
    if (this.isOpen) {
      if (!CLOSED_WHEN_OPEN.has(action)) return OPEN;
      const closed = topics.find((topic) => !anyCovers(this.anonymous[action], topic));
      if (closed === undefined) return OPEN;
      return new HubError(ErrorCode.Forbidden, `open mode does not allow ${action} on topic ${JSON.stringify(closed)}: HUB_ANONYMOUS_MANAGE does not cover it`);
    }
    // With no key, nothing is a token: an Authorization header is the backend's to read (hook).
    const token = this.verifier ? presentedToken(req, COOKIE_ACTIONS.has(action) ? this.config.auth!.cookieName : undefined) : undefined;
    if (token instanceof HubError) return token;
    const anonymous = this.anonymous[action];
    if (token === undefined) {
      const closed = topics.find((topic) => !anyCovers(anonymous, topic));
      if (closed === undefined) return OPEN;
      if (this.hook && action === Action.Subscribe) return this.askHook(req, topics, closed, address);
      return new HubError(ErrorCode.Unauthorized, `a token is required to ${action} to topic ${JSON.stringify(closed)}`);
    }
    const verified = await this.verifier!.verify(token);
    if (verified instanceof HubError) return verified;
    return this.permit(verified, action, topics, 'the token');
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
    return this.permit(answer, action, topics, 'the auth backend');
  }

  /** The permit `credential`'s grants give for `action` on `topics`, or the refusal naming `whose` grants fell short. */
  private permit(
    credential: { readonly grants: TopicGrants; readonly expiresAt: number; readonly principal: string },
    action: Action,
    topics: readonly string[],
    whose: string,
  ): Permit | HubError {
    const granted = credential.grants[action];
    const anonymous = this.anonymous[action];
    const denied = topics.find((topic) => !anyCovers(granted, topic) && !anyCovers(anonymous, topic));
    if (denied !== undefined) {
      return new HubError(ErrorCode.Forbidden, `${whose} does not allow ${action} to topic ${JSON.stringify(denied)}`);
    }
    const { principal } = credential;
    return { expiresAt: credential.expiresAt, principal, user: principal.startsWith(SUBJECT_PRINCIPAL) ? principal.slice(SUBJECT_PRINCIPAL.length) : undefined };
  }
}
