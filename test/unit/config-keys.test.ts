/**
 * Keys read from files (HUB_AUTH_*_FILE, for keys mounted from a Secret) and the open-mode rule: a hub
 * on NATS without a key refuses to start unless HUB_ALLOW_OPEN says open mode is meant.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'ssehub-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `contents` to a new file and returns its path. */
let files = 0;
function file(contents: string): string {
  const path = join(dir, `key-${++files}`);
  writeFileSync(path, contents);
  return path;
}

const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const SECRET = 's'.repeat(40);
const NATS = { NATS_URL: 'nats://127.0.0.1:4222' };

describe('loadConfig: keys from files', () => {
  it('reads a PEM public key from HUB_AUTH_PUBLIC_KEY_FILE and an HS256 secret from HUB_AUTH_HS256_SECRET_FILE', () => {
    expect(loadConfig({ HUB_AUTH_PUBLIC_KEY_FILE: file(publicPem) }).auth?.publicKeyPem).toBe(publicPem.trim());
    // A file made by `kubectl create secret --from-file` may end with a newline: not part of the secret.
    expect(loadConfig({ HUB_AUTH_HS256_SECRET_FILE: file(`${SECRET}\n`) }).auth?.hs256Secret).toBe(SECRET);
  });

  it('checks the file\'s contents as it checks the inline variable, naming the _FILE variable', () => {
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY_FILE: file('not a key') })).toThrow(/^HUB_AUTH_PUBLIC_KEY_FILE is not a PEM public key/);
    expect(() => loadConfig({ HUB_AUTH_HS256_SECRET_FILE: file('short') })).toThrow(/^HUB_AUTH_HS256_SECRET_FILE must be at least 32 characters/);
  });

  it('refuses a missing or empty file, naming the variable', () => {
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY_FILE: join(dir, 'missing.pem') })).toThrow(/^HUB_AUTH_PUBLIC_KEY_FILE cannot be read \(ENOENT/);
    expect(() => loadConfig({ HUB_AUTH_HS256_SECRET_FILE: file('\n') })).toThrow(/^HUB_AUTH_HS256_SECRET_FILE names an empty file/);
  });

  it('refuses a key given both inline and in a file', () => {
    expect(() => loadConfig({ HUB_AUTH_HS256_SECRET: SECRET, HUB_AUTH_HS256_SECRET_FILE: file(SECRET) })).toThrow(
      /^HUB_AUTH_HS256_SECRET_FILE cannot be combined with HUB_AUTH_HS256_SECRET/,
    );
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY: publicPem, HUB_AUTH_PUBLIC_KEY_FILE: file(publicPem) })).toThrow(
      /^HUB_AUTH_PUBLIC_KEY_FILE cannot be combined with HUB_AUTH_PUBLIC_KEY/,
    );
  });

  it('refuses a public key file together with a JWKS, naming the file variable', () => {
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY_FILE: file(publicPem), HUB_AUTH_JWKS_URL: 'https://keys.example/jwks.json' })).toThrow(
      /^HUB_AUTH_JWKS_URL cannot be combined with HUB_AUTH_PUBLIC_KEY_FILE/,
    );
  });
});

describe('loadConfig: open mode on NATS', () => {
  it('refuses to start without a key, naming HUB_ALLOW_OPEN and the ways out', () => {
    const refusal = (): unknown => loadConfig(NATS);
    expect(refusal).toThrow(/^HUB_ALLOW_OPEN must be 1 for a hub on a NATS bus \(NATS_URL is set\) to run without a key/);
    expect(refusal).toThrow(/HUB_AUTH_JWKS_URL, HUB_AUTH_PUBLIC_KEY, HUB_AUTH_PUBLIC_KEY_FILE, HUB_AUTH_HS256_SECRET, HUB_AUTH_HS256_SECRET_FILE, HUB_AUTH_HOOK_URL/);
    expect(() => loadConfig({ ...NATS, HUB_ALLOW_OPEN: '0' })).toThrow(/^HUB_ALLOW_OPEN/);
  });

  it('counts an auth hook as a credential source: a hook with no key is not open mode [hook]', () => {
    const config = loadConfig({ ...NATS, HUB_AUTH_HOOK_URL: 'http://backend:8080/auth' });
    expect(config.auth).toBeUndefined();
    expect(config.authHook).toEqual({ url: 'http://backend:8080/auth', timeoutMs: 2000, cacheMs: 10_000, cacheMax: 10_000 });
    expect(() => loadConfig({ HUB_AUTH_HOOK_URL: 'backend/auth' })).toThrow(/^HUB_AUTH_HOOK_URL "backend\/auth" is not an http\(s\) URL/);
  });

  it('runs open on NATS when HUB_ALLOW_OPEN=1 says so', () => {
    expect(loadConfig({ ...NATS, HUB_ALLOW_OPEN: '1' }).auth).toBeUndefined();
  });

  it('starts on NATS with a key, from a file as well as inline, without HUB_ALLOW_OPEN', () => {
    expect(loadConfig({ ...NATS, HUB_AUTH_PUBLIC_KEY_FILE: file(publicPem) }).auth?.publicKeyPem).toBe(publicPem.trim());
    expect(loadConfig({ ...NATS, HUB_AUTH_HS256_SECRET: SECRET }).auth?.hs256Secret).toBe(SECRET);
  });

  it('stays open by default on the embedded bus (the laptop default)', () => {
    expect(loadConfig({}).auth).toBeUndefined();
  });

  it('refuses a HUB_ALLOW_OPEN that is not a switch', () => {
    expect(() => loadConfig({ ...NATS, HUB_ALLOW_OPEN: 'yes' })).toThrow(/^HUB_ALLOW_OPEN must be 1, 0, true or false/);
  });
});
