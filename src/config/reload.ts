/**
 * Settings of reloading without a restart (src/reload/, docs/operations.md). The environment of a
 * running process never changes, so a reload reads its new values from files: HUB_CONFIG_FILE (an
 * env file layered over the environment) and the `HUB_AUTH_*_FILE` keys, re-read on SIGHUP and
 * whenever one of them changes.
 */
import { bool, int, optional, text } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

export const reloadRows = {
  configFile: setting({
    env: 'HUB_CONFIG_FILE',
    default: undefined,
    parse: optional(text),
    doc: 'env file (`NAME=value` lines) read at start and again on every reload, its values over the environment\'s; the way to change a live setting without a restart ([docs/operations.md](docs/operations.md#reload-without-restart))',
  }),
  reloadWatch: setting({
    env: 'HUB_RELOAD_WATCH',
    default: true,
    parse: bool,
    doc: 'reload when a watched file (`HUB_CONFIG_FILE`, `HUB_AUTH_*_FILE`) changes; `0`: only on `SIGHUP`',
  }),
  // A Kubernetes Secret or ConfigMap update swaps a symlink and touches several entries at once; an
  // editor writes a temporary file and renames it. Half a second takes each as one change.
  reloadDebounceMs: setting({
    env: 'HUB_RELOAD_DEBOUNCE_MS',
    default: 500,
    parse: int(0, 60_000),
    doc: 'quiet time after a change of a watched file (`HUB_CONFIG_FILE`, `HUB_AUTH_*_FILE`) before the hub reloads',
  }),
};

export type ReloadConfig = ValuesOf<typeof reloadRows>;
