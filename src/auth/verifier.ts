/**
 * Verifies JWTs with `jose` against the configured keys: an HS256 secret, an RS256/ES256 public key,
 * or a JWKS URL (fetched on demand, cached and rate-limited by jose). Only the algorithms the keys
 * imply are accepted, so `alg: none` and algorithm confusion (an HS256 token "signed" with the
 * public key) fail before any key is used. `exp` is required: a leaked token must stop working.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { readGrants, type TopicGrants } from './claims.js';

export interface VerifiedToken {
  readonly grants: TopicGrants;
  /** When the token stops being valid (exp plus the clock tolerance), epoch ms. */
  readonly expiresAt: number;
  /** Whom the token speaks for: `sub`, else the token's signature (rate limiting key). */
  readonly principal: string;
}

export class TokenVerifier {
  private readonly algorithms: string[] = [];
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly getKey: JWTVerifyGetKey;

  constructor(
    private readonly config: AuthConfig,
    private readonly maxTopicLength: number,
  ) {
    if (config.hs256Secret !== undefined) {
      this.secret = new TextEncoder().encode(config.hs256Secret);
      this.algorithms.push('HS256');
    }
    if (config.publicKeyPem !== undefined) {
      const key = createPublicKey(config.publicKeyPem);
      this.publicKey = key;
      this.algorithms.push(key.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256');
    }
    if (config.jwksUrl !== undefined) {
      this.jwks = createRemoteJWKSet(new URL(config.jwksUrl));
      this.algorithms.push('RS256', 'ES256');
    }
    this.getKey = (header, token) => {
      if (header.alg === 'HS256') return this.secret!;
      if (this.publicKey) return this.publicKey;
      return this.jwks!(header, token);
    };
  }

  /** The token's grants, or a HubError: 401 for a bad token, 503 when the key set cannot be fetched. */
  async verify(token: string): Promise<VerifiedToken | HubError> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        audience: this.config.audience,
        issuer: this.config.issuer,
        clockTolerance: this.config.clockToleranceSec,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      return rejection(err);
    }
    const grants = readGrants(payload, this.maxTopicLength);
    if (typeof grants === 'string') return new HubError(ErrorCode.TokenInvalid, `token rejected: ${grants}`);
    return {
      grants,
      expiresAt: payload.exp! * 1000 + this.config.clockToleranceSec * 1000,
      principal: typeof payload.sub === 'string' && payload.sub !== '' ? `sub:${payload.sub}` : `sig:${token.slice(token.lastIndexOf('.') + 1)}`,
    };
  }
}

function rejection(err: unknown): HubError {
  if (err instanceof errors.JWTExpired) return new HubError(ErrorCode.TokenExpired, 'token rejected: it has expired', { cause: err });
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
    return new HubError(ErrorCode.AuthUnavailable, 'the signing keys could not be fetched; retry later', { cause: err });
  }
  // jose's messages name the failed check ("signature verification failed", "unexpected "aud" claim
  // value") and never echo key material.
  return new HubError(ErrorCode.TokenInvalid, `token rejected: ${err.message}`, { cause: err });
}
