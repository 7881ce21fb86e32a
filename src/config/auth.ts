/**
 * Settings of authorization (docs/security.md): where public keys come from, what a token must say,
 * the auth hook, and the topic patterns open without one. No key and no hook: open (development) mode, which a hub on
 * NATS (a deployment, not a laptop) accepts only when HUB_ALLOW_OPEN says so.
 */
import { createPublicKey } from 'node:crypto';
import { checkTopic } from '../topics/subject.js';
import { ConfigError } from '../errors.js';
import { busRows } from './bus.js';
import { bool, fileContents, HOUR_MS, int, list, matching, NONE, optional, text, type Parser } from './parsers.js';
import { isSet, readRows, readSetting, setting, type Env, type ValuesOf } from './setting.js';

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
  hs256Secret: setting({ env: 'HUB_AUTH_HS256_SECRET',
    live: true, default: undefined, parse: optional(hs256Secret), doc: 'HS256 shared secret (at least 32 characters)' }),
  publicKeyPem: setting({ env: 'HUB_AUTH_PUBLIC_KEY',
    live: true, default: undefined, parse: optional(publicKeyPem), doc: 'RS256 or ES256 public key, PEM' }),
  // Fetched and cached by `jose`.
  jwksUrl: setting({
    env: 'HUB_AUTH_JWKS_URL',
    live: true,
    default: undefined,
    parse: optional(matching(/^https?:\/\/\S+$/, (url) => `"${url}" is not an http(s) URL`)),
    doc: 'JWKS URL (RS256/ES256 keys, rotated live)',
  }),
  audience: setting({ env: 'HUB_AUTH_AUDIENCE',
    live: true, default: undefined, parse: optional(text), doc: 'required `aud` when set' }),
  issuer: setting({ env: 'HUB_AUTH_ISSUER',
    live: true, default: undefined, parse: optional(text), doc: 'required `iss` when set' }),
  cookieName: setting({
    env: 'HUB_AUTH_COOKIE',
    live: true,
    default: 'ssehub_token',
    parse: matching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, (name) => `"${name}" is not a cookie name`),
    doc: 'cookie a browser may carry its token in (subscribe only)',
  }),
  clockToleranceSec: setting({ env: 'HUB_AUTH_CLOCK_TOLERANCE_S',
    live: true, default: 5, parse: int(0, 600), doc: 'clock skew allowed on `exp`/`nbf`' }),
};

/**
 * The same keys read from files, keyed by the AuthConfig key each fills: a key mounted from a
 * Kubernetes Secret stays out of the pod's environment (and out of `kubectl describe`). Read at
 * start and again by every reload, which a change of the file sets off (src/reload/watch.ts): a
 * rotated Secret reaches the hub without a restart.
 */
export const keyFileRows = {
  hs256Secret: setting({
    env: 'HUB_AUTH_HS256_SECRET_FILE',
    live: true,
    default: undefined,
    parse: optional(fileContents(hs256Secret)),
    doc: 'file holding the HS256 secret (e.g. mounted from a Secret), instead of `HUB_AUTH_HS256_SECRET`',
  }),
  publicKeyPem: setting({
    env: 'HUB_AUTH_PUBLIC_KEY_FILE',
    live: true,
    default: undefined,
    parse: optional(fileContents(publicKeyPem)),
    doc: 'file holding the PEM public key (e.g. mounted from a Secret), instead of `HUB_AUTH_PUBLIC_KEY`',
  }),
};

/**
 * The auth hook (src/auth/hook.ts, docs/security.md): a backend URL asked whether a subscription may
 * proceed, for sites with session cookies rather than tokens.
 */
export const hookRows = {
  url: setting({
    env: 'HUB_AUTH_HOOK_URL',
    default: undefined,
    parse: optional(matching(/^https?:\/\/\S+$/, (url) => `"${url}" is not an http(s) URL`)),
    doc: 'backend asked (POST) whether a subscription without a token may proceed; its answer holds the grants',
  }),
  // A session lookup is a cache or database read, milliseconds; 2 s keeps a slow backend from
  // holding a client longer than a reconnect would take, and is far above a healthy answer.
  timeoutMs: setting({ env: 'HUB_AUTH_HOOK_TIMEOUT_MS', default: 2000, parse: int(50, 60_000), doc: 'time the hook may take; slower answers 503' }),
  // Long enough to absorb a reconnect storm after a deploy or a network blip (seconds), short enough
  // that a logout or a changed role reaches new connections soon; 0 caches nothing (identical
  // in-flight checks are still shared).
  cacheMs: setting({ env: 'HUB_AUTH_HOOK_CACHE_MS', default: 10_000, parse: int(0, HOUR_MS), doc: "how long the hook's answer for one credential is reused" }),
  // One entry per credential (a hash and its grants, well under 1 KB): 10,000 is a few MB and covers
  // the clients of a busy node; beyond it the least recently used credential is asked again.
  cacheMax: setting({ env: 'HUB_AUTH_HOOK_CACHE_MAX', default: 10_000, parse: int(1, 1_000_000), doc: 'most credentials whose answers are cached' }),
};

// Not a Config key: it only decides whether loading may go on without a key.
export const allowOpenSwitch = setting({
  env: 'HUB_ALLOW_OPEN',
  default: false,
  parse: bool,
  doc: '`1`: run open (no key) on purpose on a NATS bus, where the hub otherwise refuses to start; no effect with a key, with an auth hook, or on the embedded bus',
});

/** Every variable that configures a credential source, for the open-mode refusal's message. */
const KEY_SOURCES = [authRows.jwksUrl, authRows.publicKeyPem, keyFileRows.publicKeyPem, authRows.hs256Secret, keyFileRows.hs256Secret, hookRows.url];

export const anonymousRows = {
  anonymousSubscribe: setting({ env: 'HUB_ANONYMOUS_SUBSCRIBE', live: true, default: NONE, parse: list(), doc: 'topic patterns anyone may subscribe to without a token' }),
  anonymousPublish: setting({ env: 'HUB_ANONYMOUS_PUBLISH', live: true, default: NONE, parse: list(), doc: 'topic patterns anyone may publish to without a token' }),
  anonymousManage: setting({
    env: 'HUB_ANONYMOUS_MANAGE',
    live: true,
    default: NONE,
    parse: list(),
    doc: 'topic patterns anyone may add to or remove from a user\'s streams (`POST /users/<sub>/topics`) without a token; in open mode too',
  }),
  anonymousPresence: setting({
    env: 'HUB_ANONYMOUS_PRESENCE',
    live: true,
    default: NONE,
    parse: list(),
    doc: 'topic patterns whose presence (`GET /presence`) anyone may read without a token',
  }),
};

export type AuthConfig = ValuesOf<typeof authRows>;

export interface HookConfig extends ValuesOf<typeof hookRows> {
  readonly url: string;
}

export interface AccessConfig extends ValuesOf<typeof anonymousRows> {
  /** Token verification; undefined when no key is configured. */
  readonly auth: AuthConfig | undefined;
  /** The auth hook; undefined when HUB_AUTH_HOOK_URL is unset. With neither, the hub is in open (development) mode. */
  readonly authHook: HookConfig | undefined;
}

/**
 * `maxTopicLength` is HUB_MAX_TOPIC_LENGTH: an anonymous pattern is a topic like any other.
 * `natsServers` is NATS_URL: on NATS, open mode must be asked for.
 */
export function loadAccess(env: Env, maxTopicLength: number, natsServers: readonly string[]): AccessConfig {
  const auth = loadAuth(env);
  const authHook = loadHook(env);
  const allowOpen = readSetting(env, allowOpenSwitch);
  // The embedded bus is one process, the laptop default: open mode stays the default there. A hub on
  // NATS is a deployment, where a forgotten key would publish every topic to whoever reaches it.
  if (auth === undefined && authHook === undefined && natsServers.length > 0 && !allowOpen) {
    throw new ConfigError(
      allowOpenSwitch.env,
      `must be 1 for a hub on a NATS bus (${busRows.natsServers.env} is set) to run without a key: anyone who reaches it could subscribe to and publish on every topic. ` +
        `Configure a key (${KEY_SOURCES.map((row) => row.env).join(', ')}; docs/security.md), or set ${allowOpenSwitch.env}=1 if open mode is meant`,
    );
  }
  return { auth, authHook, ...loadAnonymous(env, maxTopicLength) };
}

function loadHook(env: Env): HookConfig | undefined {
  const hook = readRows(env, hookRows);
  return hook.url === undefined ? undefined : Object.freeze({ ...hook, url: hook.url });
}

function loadAuth(env: Env): AuthConfig | undefined {
  for (const key of Object.keys(keyFileRows) as (keyof typeof keyFileRows)[]) {
    if (isSet(env, authRows[key]) && isSet(env, keyFileRows[key])) {
      throw new ConfigError(keyFileRows[key].env, `cannot be combined with ${authRows[key].env}: give the key inline or in a file, not both`);
    }
  }
  const inline = readRows(env, authRows);
  const fromFiles = readRows(env, keyFileRows);
  const auth = { ...inline, hs256Secret: inline.hs256Secret ?? fromFiles.hs256Secret, publicKeyPem: inline.publicKeyPem ?? fromFiles.publicKeyPem };
  if (auth.publicKeyPem !== undefined && auth.jwksUrl !== undefined) {
    const pemVariable = (isSet(env, keyFileRows.publicKeyPem) ? keyFileRows : authRows).publicKeyPem.env;
    throw new ConfigError(authRows.jwksUrl.env, `cannot be combined with ${pemVariable}: set one source of public keys`);
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
