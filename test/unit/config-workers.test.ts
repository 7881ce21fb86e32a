import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { OPEN_ON_PURPOSE } from '../helpers/open-mode.js';

const ON_NATS = { NATS_URL: 'nats://127.0.0.1:4222', ...OPEN_ON_PURPOSE };

describe('HUB_WORKERS', () => {
  it('defaults to one process', () => {
    expect(loadConfig({}).workers).toBe(1);
  });

  it('takes several workers with NATS, and 0 as one per core', () => {
    expect(loadConfig({ HUB_WORKERS: '4', ...ON_NATS }).workers).toBe(4);
    expect(loadConfig({ HUB_WORKERS: '0', ...ON_NATS }).workers).toBe(availableParallelism());
  });

  it('refuses several workers on the embedded bus, naming the variable', () => {
    expect(() => loadConfig({ HUB_WORKERS: '2' })).toThrow(/HUB_WORKERS must be 1 without NATS_URL/);
  });

  it.each(['-1', 'two', '257'])('refuses %j', (value) => {
    expect(() => loadConfig({ HUB_WORKERS: value, ...ON_NATS })).toThrow(/HUB_WORKERS/);
  });
});
