/** NATS URLs as they may be logged or shown in a configuration error: userinfo never is. */
import { describe, expect, it } from 'vitest';
import { loadConfig, redactCredentials } from '../../src/config.js';

describe('redactCredentials', () => {
  it('hides a user and password, a token, and userinfo without a scheme; leaves the rest', () => {
    expect(redactCredentials('nats://user:secret@nats-0.nats:4222')).toBe('nats://***@nats-0.nats:4222');
    expect(redactCredentials('tls://s3cr3t-token@nats:4222')).toBe('tls://***@nats:4222');
    expect(redactCredentials('user:secret@nats:4222')).toBe('***@nats:4222');
    expect(redactCredentials('nats://nats:4222')).toBe('nats://nats:4222');
    expect(redactCredentials('nats:4222')).toBe('nats:4222');
  });

  it('keeps the password out of the error for a NATS_URL that does not parse', () => {
    expect(() => loadConfig({ NATS_URL: 'nats://ok:4222,user:secret@nats' })).toThrow(/"\*\*\*@nats" is not a NATS URL/);
    expect(() => loadConfig({ NATS_URL: 'user:secret@nats' })).not.toThrow(/secret/);
  });
});
