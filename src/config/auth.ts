/**
 * Settings of authorization (docs/security.md): where public keys come from, what a token must say,
 * and the topic patterns open without one. No key at all: open (development) mode.
 */
import { createPublicKey } from 'node:crypto';
import { checkTopic } from '../topics/subject.js';
import { ConfigError } from '../errors.js';
import { int, list, matching, NONE, optional, text, type Parser } from './parsers.js';
import { readRows, setting, type Env, type ValuesOf } from './setting.js';

const hs256Secret: Parser<string> = (secret, variable) => {
  if (secret.length < 32) throw new ConfigError(variable, 'must be at least 32 characters (HS256 needs a 256-bit secret)');
  return secret;
};

/** PEM (SPKI) text, checked to be an RSA or P-256 public key. */
const publicKeyPem: Parser<string> = (value, variable) => {
  // PEM in one environment line: accept literal "\n" escapes as line breaks.
  const pem = value.replaceAll('\\n', '\n');
  let key;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new ConfigError(variable, `is not a PEM public key (${(err as Error).message})`);
  }
  const p256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (key.asymmetricKeyType !== 'rsa' && !p256) throw new ConfigError(variable, 'must be an RSA (RS256) or P-256 (ES256) public key');
  return pem;
};

export const authRows = {
  hs256Secret: setting({ env: 'HUB_AUTH_HS256_SECRET', default: undefined, parse: optional(hs256Secret), doc: 'HS256 shared secret (at least 32 characters)' }),
  publicKeyPem: setting({ env: 'HUB_AUTH_PUBLIC_KEY', default: undefined, parse: optional(publicKeyPem), doc: 'RS256 or ES256 public key, PEM' }),
  // Fetched and cached by `jose`.
  jwksUrl: setting({
    env: 'HUB_AUTH_JWKS_URL',
    default: undefined,
    parse: optional(matching(/^https?:\/\/\S+$/, (url) => `"${url}" is not an http(s) URL`)),
    doc: 'JWKS URL (RS256/ES256 keys, rotated live)',
  }),
  audience: setting({ env: 'HUB_AUTH_AUDIENCE', default: undefined, parse: optional(text), doc: 'required `aud` when set' }),
  issuer: setting({ env: 'HUB_AUTH_ISSUER', default: undefined, parse: optional(text), doc: 'required `iss` when set' }),
  cookieName: setting({
    env: 'HUB_AUTH_COOKIE',
    default: 'ssehub_token',
    parse: matching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, (name) => `"${name}" is not a cookie name`),
    doc: 'cookie a browser may carry its token in (subscribe only)',
  }),
  clockToleranceSec: setting({ env: 'HUB_AUTH_CLOCK_TOLERANCE_S', default: 5, parse: int(0, 600), doc: 'clock skew allowed on `exp`/`nbf`' }),
};

export const anonymousRows = {
  anonymousSubscribe: setting({ env: 'HUB_ANONYMOUS_SUBSCRIBE', default: NONE, parse: list(), doc: 'topic patterns anyone may subscribe to without a token' }),
  anonymousPublish: setting({ env: 'HUB_ANONYMOUS_PUBLISH', default: NONE, parse: list(), doc: 'topic patterns anyone may publish to without a token' }),
};

export type AuthConfig = ValuesOf<typeof authRows>;

export interface AccessConfig extends ValuesOf<typeof anonymousRows> {
  /** Token verification; undefined means open (development) mode. */
  readonly auth: AuthConfig | undefined;
}

/** `maxTopicLength` is HUB_MAX_TOPIC_LENGTH: an anonymous pattern is a topic like any other. */
export function loadAccess(env: Env, maxTopicLength: number): AccessConfig {
  return { auth: loadAuth(env), ...loadAnonymous(env, maxTopicLength) };
}

function loadAuth(env: Env): AuthConfig | undefined {
  const auth = readRows(env, authRows);
  if (auth.publicKeyPem !== undefined && auth.jwksUrl !== undefined) {
    throw new ConfigError(authRows.jwksUrl.env, `cannot be combined with ${authRows.publicKeyPem.env}: set one source of public keys`);
  }
  const keyless = auth.hs256Secret === undefined && auth.publicKeyPem === undefined && auth.jwksUrl === undefined;
  return keyless ? undefined : Object.freeze(auth);
}

function loadAnonymous(env: Env, maxTopicLength: number): ValuesOf<typeof anonymousRows> {
  const anonymous = readRows(env, anonymousRows);
  for (const [key, row] of Object.entries(anonymousRows)) {
    for (const pattern of anonymous[key as keyof typeof anonymousRows]) {
      const problem = checkTopic(pattern, { maxLength: maxTopicLength, allowWildcards: true });
      if (problem) throw new ConfigError(row.env, `holds a bad topic pattern: ${problem.message}`);
    }
  }
  return anonymous;
}
