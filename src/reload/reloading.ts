/**
 * Reloading for one running hub: what each live setting changes in the running parts (the one list
 * of it), the Reloader, and the file watcher that sets it off. Built by the composition root.
 */
import type { SettingsSource } from '../config/env-file.js';
import { keyFileRows } from '../config/auth.js';
import type { LiveConfig } from '../config/live.js';
import { reloadRows } from '../config/reload.js';
import type { Env } from '../config/setting.js';
import type { Hub } from '../hub/hub.js';
import type { Guards } from '../http/guards.js';
import type { Logger } from '../log.js';
import { Reloader, ReloadResult, type ReloadOutcome, type ReloadTrigger } from './reloader.js';
import { FileWatcher } from './watch.js';

export interface Reloading {
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Stops watching files; a reload under way finishes. */
  close(): void;
}

export interface ReloadingDeps {
  readonly live: LiveConfig;
  readonly hub: Hub;
  readonly guards: Guards;
  readonly log: Logger;
  readonly settings: SettingsSource;
}

/** The files whose change sets off a reload: the config file and the key files the settings name. */
function watchedFiles(env: Env): string[] {
  return [reloadRows.configFile, ...Object.values(keyFileRows)].map((row) => env[row.env]?.trim() ?? '').filter((path) => path !== '');
}

export function startReloading({ live, hub, guards, log, settings }: ReloadingDeps): Reloading {
  // Where each live setting goes. Those read per request (CORS, HUB_MAX_CONNECTIONS, the
  // Retry-After of a refusal) read live.current themselves.
  live.onChange((config, changed) => {
    if (changed.has('logLevel')) log.level = config.logLevel;
    if (changed.has('heartbeatMs') || changed.has('retryMs')) hub.retune(config.heartbeatMs, config.retryMs);
    if (changed.has('auth') || changed.has('anonymousSubscribe') || changed.has('anonymousPublish')) guards.access.reconfigure(config);
    if (changed.has('maxConnectionsPerAddress')) guards.addresses.setMax(config.maxConnectionsPerAddress);
    if (changed.has('publishRate') || changed.has('publishBurst') || changed.has('rateLimitMaxKeys')) {
      guards.publishRate.reconfigure(config.publishRate, config.publishBurst, config.rateLimitMaxKeys);
    }
  });

  const reloader = new Reloader({ live, hub, guards, log, environment: () => settings.read() }, settings.start);
  const { reloadWatch, reloadDebounceMs } = live.current;
  if (!reloadWatch) return { reload: (trigger) => reloader.reload(trigger), close() {} };

  let watcher: FileWatcher | undefined;
  const reload = async (trigger: ReloadTrigger): Promise<ReloadOutcome> => {
    const outcome = await reloader.reload(trigger);
    // A reload may name other key files (HUB_CONFIG_FILE can move HUB_AUTH_*_FILE): watch those from now on.
    if (outcome.result === ReloadResult.Refused) return outcome;
    try {
      watcher?.watch(watchedFiles(settings.read()));
    } catch {
      // The config file went bad right after this reload read it: the next reload says so.
    }
    return outcome;
  };
  watcher = new FileWatcher(reloadDebounceMs, () => void reload('file').catch((err: unknown) => log.error({ err }, 'reload failed')), log);
  const files = watchedFiles(settings.start);
  watcher.watch(files);
  if (files.length > 0) log.info({ files, debounceMs: reloadDebounceMs }, 'watching files for a reload');
  return {
    reload,
    close: () => watcher?.close(),
  };
}
