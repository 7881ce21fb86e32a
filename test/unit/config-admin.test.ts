/** The admin listener's settings: off by default, loopback unless a token guards it, one worker. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isLoopbackHost } from '../../src/config/admin.js';

const NATS = { NATS_URL: 'nats://127.0.0.1:4222', HUB_ALLOW_OPEN: '1' };
const TOKEN = 'a'.repeat(32);

describe('admin settings [unit]', () => {
  it('[unit] is off unless HUB_ADMIN_PORT is set, and binds loopback by default', () => {
    expect(loadConfig({}).adminPort).toBeUndefined();
    expect(loadConfig({ HUB_ADMIN_PORT: '0' })).toMatchObject({ adminPort: 0, adminHost: '127.0.0.1', adminToken: undefined });
  });

  it('[unit] a non-loopback host needs a token; loopback does not', () => {
    expect(() => loadConfig({ HUB_ADMIN_PORT: '9090', HUB_ADMIN_HOST: '0.0.0.0' })).toThrow(/^HUB_ADMIN_TOKEN must be set for the admin listener to bind 0\.0\.0\.0/);
    expect(loadConfig({ HUB_ADMIN_PORT: '9090', HUB_ADMIN_HOST: '0.0.0.0', HUB_ADMIN_TOKEN: TOKEN }).adminToken).toBe(TOKEN);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('[unit] a token shorter than 32 characters is refused', () => {
    expect(() => loadConfig({ HUB_ADMIN_PORT: '0', HUB_ADMIN_TOKEN: 'short' })).toThrow(/^HUB_ADMIN_TOKEN must be at least 32 characters/);
  });

  it('[unit] is refused with more than one worker, and without a port the worker count does not matter', () => {
    expect(() => loadConfig({ ...NATS, HUB_WORKERS: '2', HUB_ADMIN_PORT: '9090' })).toThrow(/^HUB_ADMIN_PORT cannot be used with HUB_WORKERS=2/);
    expect(loadConfig({ ...NATS, HUB_WORKERS: '2' }).workers).toBe(2);
  });
});
