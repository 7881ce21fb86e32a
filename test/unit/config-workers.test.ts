import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('HUB_WORKERS', () => {
  it('defaults to one process', () => {
    expect(loadConfig({}).workers).toBe(1);
  });

  it('takes several workers with NATS, and 0 as one per core', () => {
    expect(loadConfig({ HUB_WORKERS: '4', NATS_URL: 'nats://127.0.0.1:4222' }).workers).toBe(4);
    expect(loadConfig({ HUB_WORKERS: '0', NATS_URL: 'nats://127.0.0.1:4222' }).workers).toBe(availableParallelism());
  });

  it('refuses several workers on the embedded bus, naming the variable', () => {
    expect(() => loadConfig({ HUB_WORKERS: '2' })).toThrow(/HUB_WORKERS must be 1 without NATS_URL/);
  });

  it.each(['-1', 'two', '257'])('refuses %j', (value) => {
    expect(() => loadConfig({ HUB_WORKERS: value, NATS_URL: 'nats://127.0.0.1:4222' })).toThrow(/HUB_WORKERS/);
  });
});
