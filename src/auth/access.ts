/**
 * Who may subscribe to or publish on which topics. With no key configured the hub is in open
 * (development) mode and allows everything; otherwise a request needs a valid token whose grants
 * cover every topic it names, except topics covered by the anonymous patterns of that action.
 * A token that is presented but bad is always refused, even for public topics: a client with a
 * broken token should learn so, not be served silently as anonymous.
 */
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { Action } from './claims.js';
import { presentedToken, type RequestFields } from './credentials.js';
import { anyCovers } from '../topics/coverage.js';
import { TokenVerifier } from './verifier.js';

export { Action };

export interface Permit {
  /** When the credentials stop being valid (epoch ms); streams end then. Undefined: never. */
  readonly expiresAt: number | undefined;
  /** Whom rate limits count against; undefined for anonymous requests (the address is used). */
  readonly principal: string | undefined;
}

const OPEN: Permit = Object.freeze({ expiresAt: undefined, principal: undefined });

export class Access {
  private readonly verifier: TokenVerifier | undefined;
  private readonly anonymous: Readonly<Record<Action, readonly string[]>>;

  constructor(
    private readonly config: Config,
    log: Logger,
  ) {
    this.verifier = config.auth ? new TokenVerifier(config.auth, config.maxTopicLength) : undefined;
    this.anonymous = { subscribe: config.anonymousSubscribe, publish: config.anonymousPublish };
    if (!config.auth) {
      log.warn('OPEN MODE: no HUB_AUTH_* key is configured, so anyone who reaches this hub may subscribe to and publish on every topic (development only)');
    } else {
      const sources = [config.auth.hs256Secret && 'HS256 secret', config.auth.publicKeyPem && 'public key', config.auth.jwksUrl && 'JWKS URL'].filter(Boolean);
      log.info({ sources, anonymousSubscribe: config.anonymousSubscribe, anonymousPublish: config.anonymousPublish }, 'token authorization on');
    }
  }

  get isOpen(): boolean {
    return this.verifier === undefined;
  }

  /** A permit for `action` on every topic in `topics` (validated, prefix-relative), or the refusal. */
  async authorize(req: RequestFields, action: Action, topics: readonly string[]): Promise<Permit | HubError> {
    if (!this.verifier) return OPEN;
    const token = presentedToken(req, action === Action.Subscribe ? this.config.auth!.cookieName : undefined);
    if (token instanceof HubError) return token;
    const anonymous = this.anonymous[action];
    if (token === undefined) {
      const closed = topics.find((topic) => !anyCovers(anonymous, topic));
      if (closed === undefined) return OPEN;
      return new HubError(ErrorCode.Unauthorized, `a token is required to ${action} to topic ${JSON.stringify(closed)}`);
    }
    const verified = await this.verifier.verify(token);
    if (verified instanceof HubError) return verified;
    const granted = verified.grants[action];
    const denied = topics.find((topic) => !anyCovers(granted, topic) && !anyCovers(anonymous, topic));
    if (denied !== undefined) {
      return new HubError(ErrorCode.Forbidden, `the token does not allow ${action} to topic ${JSON.stringify(denied)}`);
    }
    return { expiresAt: verified.expiresAt, principal: verified.principal };
  }
}
