/** Settings of shutdown: how long it may take, and over how long open streams are ended. */
import { ConfigError } from '../errors.js';
import { HOUR_MS, int } from './parsers.js';
import { isSet, readSetting, setting, type Env, type ValuesOf } from './setting.js';

/** Part of HUB_SHUTDOWN_TIMEOUT_MS kept after the drain window: final flushes, bus close. */
export const DRAIN_MARGIN_MS = 1000;

export const lifecycleRows = {
  shutdownTimeoutMs: setting({ env: 'HUB_SHUTDOWN_TIMEOUT_MS', default: 10_000, parse: int(100, HOUR_MS), doc: 'time from SIGTERM to exit' }),
  // Spread, so that a node's clients do not all reconnect (to the other replicas) in the same second.
  drainWindowMs: setting({
    env: 'HUB_DRAIN_WINDOW_MS',
    default: 5000,
    parse: int(0, HOUR_MS),
    doc: `on shutdown, open streams end spread evenly over this window (0 = all at once); must leave ${DRAIN_MARGIN_MS / 1000} s of \`HUB_SHUTDOWN_TIMEOUT_MS\`, and by default shrinks to do so`,
  }),
};

export type LifecycleConfig = ValuesOf<typeof lifecycleRows>;

export function loadLifecycle(env: Env): LifecycleConfig {
  const { shutdownTimeoutMs: timeoutRow, drainWindowMs: windowRow } = lifecycleRows;
  const shutdownTimeoutMs = readSetting(env, timeoutRow);
  // Unset, the window follows the timeout, so only a window the user set can conflict with it.
  const drainWindowMs = isSet(env, windowRow)
    ? readSetting(env, windowRow)
    : Math.max(0, Math.min(windowRow.default, shutdownTimeoutMs - DRAIN_MARGIN_MS));
  if (drainWindowMs > 0 && drainWindowMs + DRAIN_MARGIN_MS > shutdownTimeoutMs) {
    throw new ConfigError(
      windowRow.env,
      `must leave ${DRAIN_MARGIN_MS} ms of ${timeoutRow.env} (${shutdownTimeoutMs}) for the last streams and the bus to close, got ${drainWindowMs}`,
    );
  }
  return { shutdownTimeoutMs, drainWindowMs };
}
