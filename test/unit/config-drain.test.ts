import { describe, expect, it } from 'vitest';
import { DEFAULTS, DRAIN_MARGIN_MS, loadConfig } from '../../src/config.js';

describe('HUB_DRAIN_WINDOW_MS', () => {
  it('defaults to a window that fits the default shutdown timeout', () => {
    const config = loadConfig({});
    expect(config.drainWindowMs).toBe(DEFAULTS.HUB_DRAIN_WINDOW_MS);
    expect(config.drainWindowMs).toBe(5000);
    expect(config.drainWindowMs + DRAIN_MARGIN_MS).toBeLessThanOrEqual(config.shutdownTimeoutMs);
  });

  it('accepts 0 (end every stream at once) with any shutdown timeout', () => {
    expect(loadConfig({ HUB_DRAIN_WINDOW_MS: '0', HUB_SHUTDOWN_TIMEOUT_MS: '100' }).drainWindowMs).toBe(0);
  });

  it('must leave the margin inside HUB_SHUTDOWN_TIMEOUT_MS', () => {
    expect(loadConfig({ HUB_DRAIN_WINDOW_MS: '9000', HUB_SHUTDOWN_TIMEOUT_MS: '10000' }).drainWindowMs).toBe(9000);
    expect(() => loadConfig({ HUB_DRAIN_WINDOW_MS: '9001', HUB_SHUTDOWN_TIMEOUT_MS: '10000' })).toThrow(/^HUB_DRAIN_WINDOW_MS must leave 1000 ms of HUB_SHUTDOWN_TIMEOUT_MS \(10000\)/);
    expect(() => loadConfig({ HUB_DRAIN_WINDOW_MS: '5000', HUB_SHUTDOWN_TIMEOUT_MS: '3000' })).toThrow(/HUB_DRAIN_WINDOW_MS/);
    expect(() => loadConfig({ HUB_DRAIN_WINDOW_MS: 'soon' })).toThrow(/HUB_DRAIN_WINDOW_MS must be a whole number/);
  });

  it('follows a shorter shutdown timeout when unset, so the defaults never conflict', () => {
    expect(loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '5000' }).drainWindowMs).toBe(4000);
    expect(loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '3000' }).drainWindowMs).toBe(2000);
    expect(loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '100' }).drainWindowMs).toBe(0);
    expect(loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '60000' }).drainWindowMs).toBe(5000);
    expect(loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '5000', HUB_DRAIN_WINDOW_MS: ' ' }).drainWindowMs).toBe(4000);
  });

  it('still refuses a window the user set that does not fit, with the same message', () => {
    expect(() => loadConfig({ HUB_SHUTDOWN_TIMEOUT_MS: '5000', HUB_DRAIN_WINDOW_MS: '5000' })).toThrow(
      /^HUB_DRAIN_WINDOW_MS must leave 1000 ms of HUB_SHUTDOWN_TIMEOUT_MS \(5000\) for the last streams and the bus to close, got 5000$/,
    );
  });
});
