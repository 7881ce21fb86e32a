/**
 * One reload: read the settings anew (HUB_CONFIG_FILE over the environment, the `HUB_AUTH_*_FILE`
 * keys), validate them as a whole with loadConfig, and either refuse them all (the configuration in
 * force stays, one log line names the variable) or apply their live values (config/live.ts) and end
 * the streams whose credential the new keys or patterns no longer accept. Settings that are not live
 * and changed are logged as ignored until a restart. Reloads run one after another, never interleaved.
 */
import { loadConfig, type Config } from '../config.js';
import { authRows, keyFileRows } from '../config/auth.js';
import { fixedChanges, type LiveConfig } from '../config/live.js';
import type { Env } from '../config/setting.js';
import { ConfigError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Guards } from '../http/guards.js';
import type { Logger } from '../log.js';
import { CloseReason } from '../sse/connection.js';

export const ReloadResult = { Applied: 'applied', Unchanged: 'unchanged', Refused: 'refused' } as const;
export type ReloadResult = (typeof ReloadResult)[keyof typeof ReloadResult];

/** What set a reload off, for its log line. */
export type ReloadTrigger = 'SIGHUP' | 'file';

export interface ReloadOutcome {
  readonly result: ReloadResult;
  /** Live Config keys whose value changed. */
  readonly changed: readonly string[];
  /** Variables that are not live and differ from the start's: ignored until a restart. */
  readonly ignored: readonly string[];
  /** Streams ended as credentials-revoked. */
  readonly revoked: number;
  /** Why a refused reload was refused (the ConfigError's message, naming the variable). */
  readonly problem?: string;
}

export interface ReloaderDeps {
  readonly live: LiveConfig;
  readonly hub: Hub;
  readonly guards: Guards;
  readonly log: Logger;
  /** The settings as a reload reads them (config/env-file.ts readEnvironment); may throw ConfigError. */
  readonly environment: () => Env;
}

// Every variable that can hold a key, for naming the one a reload that drops every key removed.
const KEY_ROWS = [authRows.hs256Secret, keyFileRows.hs256Secret, authRows.publicKeyPem, keyFileRows.publicKeyPem, authRows.jwksUrl];

export class Reloader {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: ReloaderDeps,
    /** The environment the hub started with: the values of every setting that is not live. */
    private readonly startEnv: Env,
  ) {}

  /** Reload now, after any reload under way. Never rejects for a bad configuration: that is a refused outcome. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.run(trigger));
    this.queue = run.catch(() => {});
    return run;
  }

  private async run(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { live, hub, guards, log } = this.deps;
    let env: Env;
    let next: Config;
    try {
      env = this.deps.environment();
      next = loadConfig(env);
      this.keepsMode(live.current, next, env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      hub.metrics.reloads.inc({ result: ReloadResult.Refused });
      log.error({ trigger, variable: err.variable }, `reload refused, the configuration in force is kept: ${err.message}`);
      return { result: ReloadResult.Refused, changed: [], ignored: [], revoked: 0, problem: err.message };
    }
    const ignored = fixedChanges(this.startEnv, env);
    const changed = live.apply(next);
    let revoked = 0;
    if (changed.has('auth') || changed.has('anonymousSubscribe')) {
      // Checked against the keys now in force; a stream opened meanwhile was let in by those same keys.
      const ends = await guards.access.revoked(hub.streamCredentials());
      revoked = hub.endWhere((credential) => ends.has(credential), CloseReason.CredentialsRevoked);
    }
    const result = changed.size > 0 ? ReloadResult.Applied : ReloadResult.Unchanged;
    hub.metrics.reloads.inc({ result });
    log.info({ trigger, result, changed: [...changed], revoked }, 'configuration reloaded');
    if (ignored.length > 0) log.warn({ trigger, ignored }, 'reload ignored settings that only a restart applies; the start values stay in force');
    return { result, changed: [...changed], ignored, revoked };
  }

  /**
   * Open mode (no key, no hook) cannot be switched by a reload: dropping every key would open every
   * topic to anyone, and adding the first would change what every open stream means. Both take a restart.
   */
  private keepsMode(current: Config, next: Config, env: Env): void {
    const open = (config: Config): boolean => config.auth === undefined && config.authHook === undefined;
    if (open(current) === open(next)) return;
    const changedKey = KEY_ROWS.find((row) => (env[row.env]?.trim() ?? '') !== (this.startEnv[row.env]?.trim() ?? '')) ?? authRows.hs256Secret;
    const verb = open(current) ? 'would configure the first key of a hub in open mode' : 'would remove the last key';
    throw new ConfigError(changedKey.env, `${verb}: switching open mode on or off takes a restart`);
  }
}
