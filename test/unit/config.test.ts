import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('uses the defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(DEFAULTS.PORT);
    expect(config.heartbeatMs).toBe(DEFAULTS.HUB_HEARTBEAT_MS);
    expect(config.natsServers).toEqual([]);
    expect(config.subjectPrefix).toBe('sse');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads NATS_URL lists', () => {
    expect(loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4222' }).natsServers).toEqual(['nats://a:4222', 'nats://b:4222']);
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
