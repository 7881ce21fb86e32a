import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { OPEN_ON_PURPOSE } from '../helpers/open-mode.js';

describe('loadConfig', () => {
  it('uses the defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(DEFAULTS.PORT);
    expect(config.port).toBe(8080);
    expect(config.heartbeatMs).toBe(DEFAULTS.HUB_HEARTBEAT_MS);
    expect(config.heartbeatMs).toBe(15_000);
    expect(config.natsServers).toEqual([]);
    expect(config.subjectPrefix).toBe('sse');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads NATS_URL lists', () => {
    expect(loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4222', ...OPEN_ON_PURPOSE }).natsServers).toEqual(['nats://a:4222', 'nats://b:4222']);
  });

  it('reads HUB_DEMO as a switch, on by default', () => {
    expect(loadConfig({}).demo).toBe(true);
    expect(loadConfig({ HUB_DEMO: '0' }).demo).toBe(false);
    expect(loadConfig({ HUB_DEMO: 'FALSE' }).demo).toBe(false);
    expect(loadConfig({ HUB_DEMO: 'true' }).demo).toBe(true);
  });

  it.each([
    ['HUB_DEMO', 'off', /HUB_DEMO must be 1, 0, true or false, got "off"/],
    ['PORT', 'eighty', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['HUB_HEARTBEAT_MS', '-5', /HUB_HEARTBEAT_MS must be a whole number/],
    ['HUB_SUBJECT_PREFIX', 'sse.*', /HUB_SUBJECT_PREFIX must be a literal NATS subject/],
    ['NATS_URL', 'http://x', /NATS_URL "http:\/\/x" is not a NATS URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
  ])('%s=%j fails naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

describe('loadConfig: auth, CORS and limits', () => {
  it('is in open mode with no key, with the limits off or at their defaults', () => {
    const config = loadConfig({});
    expect(config.auth).toBeUndefined();
    expect(config.corsOrigins).toEqual([]);
    expect(config.maxConnectionsPerAddress).toBe(0);
    expect(config.publishRate).toBe(0);
    expect(config.maxQueryBytes).toBe(DEFAULTS.HUB_MAX_QUERY_BYTES);
    expect(config.maxQueryBytes).toBe(4096);
  });

  it('reads a key, audience, issuer and public patterns', () => {
    const config = loadConfig({
      HUB_AUTH_HS256_SECRET: 'x'.repeat(32),
      HUB_AUTH_AUDIENCE: 'hub',
      HUB_AUTH_ISSUER: 'backend',
      HUB_ANONYMOUS_SUBSCRIBE: 'news.>, status',
    });
    expect(config.auth).toMatchObject({ hs256Secret: 'x'.repeat(32), audience: 'hub', issuer: 'backend', cookieName: 'ssehub_token' });
    expect(config.anonymousSubscribe).toEqual(['news.>', 'status']);
  });

  it.each([
    ['HUB_AUTH_HS256_SECRET', 'short', /HUB_AUTH_HS256_SECRET must be at least 32 characters/],
    ['HUB_AUTH_PUBLIC_KEY', 'not a pem', /HUB_AUTH_PUBLIC_KEY is not a PEM public key/],
    ['HUB_AUTH_JWKS_URL', 'ftp://x', /HUB_AUTH_JWKS_URL "ftp:\/\/x" is not an http\(s\) URL/],
    ['HUB_AUTH_COOKIE', 'a b', /HUB_AUTH_COOKIE "a b" is not a cookie name/],
    ['HUB_ANONYMOUS_SUBSCRIBE', 'news.>.x', /HUB_ANONYMOUS_SUBSCRIBE holds a bad topic pattern/],
    ['HUB_CORS_ORIGINS', '*', /"\*" cannot be used with credentials/],
    ['HUB_CORS_ORIGINS', 'https://a.example/path', /is not an origin/],
    ['HUB_CORS_CREDENTIALS', 'maybe', /HUB_CORS_CREDENTIALS must be 1, 0, true or false/],
    ['HUB_TRUST_PROXY_HOPS', '99', /HUB_TRUST_PROXY_HOPS must be between 0 and 16/],
  ])('%s=%j fails naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('allows "*" origins only without credentials', () => {
    expect(loadConfig({ HUB_CORS_ORIGINS: '*', HUB_CORS_CREDENTIALS: 'false' }).corsOrigins).toEqual(['*']);
  });
});

describe('loadConfig: public keys', () => {
  it('accepts RSA and P-256 keys, also with \\n escapes, and refuses other curves', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = (type: 'rsa' | 'ec', namedCurve?: string): string => {
      const { publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: namedCurve! });
      return publicKey.export({ type: 'spki', format: 'pem' }) as string;
    };
    expect(loadConfig({ HUB_AUTH_PUBLIC_KEY: pem('rsa') }).auth?.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(loadConfig({ HUB_AUTH_PUBLIC_KEY: pem('ec', 'P-256').replaceAll('\n', '\\n') }).auth?.publicKeyPem).toContain('\n');
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY: pem('ec', 'P-384') })).toThrow(/HUB_AUTH_PUBLIC_KEY must be an RSA \(RS256\) or P-256 \(ES256\) public key/);
    expect(() => loadConfig({ HUB_AUTH_PUBLIC_KEY: pem('rsa'), HUB_AUTH_JWKS_URL: 'https://keys.example/jwks.json' })).toThrow(/HUB_AUTH_JWKS_URL cannot be combined/);
  });
});

describe('loadConfig: publish settings', () => {
  it('keeps the overload bound at least one stream\'s slow-consumer limit, or off', () => {
    expect(loadConfig({ HUB_MAX_BUFFERED_BYTES: '65536', HUB_PUBLISH_MAX_BACKLOG_BYTES: '65536' }).maxBacklogBytes).toBe(65536);
    expect(loadConfig({ HUB_MAX_BUFFERED_BYTES: '65536', HUB_PUBLISH_MAX_BACKLOG_BYTES: '0' }).maxBacklogBytes).toBe(0);
    // Unset, the bound grows to a per-stream bound above its default instead of refusing to start.
    expect(loadConfig({ HUB_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024) }).maxBacklogBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({}).maxBacklogBytes).toBe(64 * 1024 * 1024);
    expect(() => loadConfig({ HUB_MAX_BUFFERED_BYTES: '65536', HUB_PUBLISH_MAX_BACKLOG_BYTES: '65535' })).toThrow(
      /HUB_PUBLISH_MAX_BACKLOG_BYTES must be 0 or at least HUB_MAX_BUFFERED_BYTES \(65536\)/,
    );
    expect(() => loadConfig({ HUB_PUBLISH_MAX_BATCH_EVENTS: '0' })).toThrow(/HUB_PUBLISH_MAX_BATCH_EVENTS/);
  });
});
