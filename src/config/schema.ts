/**
 * The whole settings schema: every area's rows, in README's three tables, and the Config type they
 * make. A setting added to an area's rows shows up in Config, in loadConfig and in README at once.
 */
import { adminRows, type AdminConfig } from './admin.js';
import { allowOpenSwitch, anonymousRows, authRows, hookRows, keyFileRows, type AccessConfig } from './auth.js';
import { busRows, type BusConfig } from './bus.js';
import { controlRows, presenceRows, type ControlConfig } from './control.js';
import { corsRows, type CorsConfig } from './cors.js';
import { historyRows, jetStreamRows, jetStreamSwitch, type JetStreamConfig } from './jetstream.js';
import { lifecycleRows, type LifecycleConfig } from './lifecycle.js';
import { limitRows, type LimitConfig } from './limits.js';
import { publishRows, type PublishConfig } from './publish.js';
import { reloadRows, type ReloadConfig } from './reload.js';
import { replayRows, type ReplayConfig } from './replay.js';
import { serverRows, type ServerConfig } from './server.js';
import type { Rows } from './setting.js';
import { streamRows, type StreamConfig } from './streams.js';

export interface Config
  extends ServerConfig,
    BusConfig,
    ControlConfig,
    StreamConfig,
    PublishConfig,
    ReplayConfig,
    LifecycleConfig,
    JetStreamConfig,
    AccessConfig,
    CorsConfig,
    LimitConfig,
    AdminConfig,
    ReloadConfig {}

type RowOf<R extends readonly Rows[]> = { [I in keyof R]: R[I][keyof R[I]] }[number];

function rowsOf<const R extends readonly Rows[]>(...areas: R): readonly RowOf<R>[] {
  return Object.freeze(areas.flatMap((rows) => Object.values(rows) as RowOf<R>[]));
}

/** README's settings tables (between its `settings:<name>` markers), each row in schema order. */
export const SETTINGS_TABLES = {
  general: rowsOf(serverRows, busRows, controlRows, presenceRows, streamRows, publishRows, replayRows, lifecycleRows, adminRows, reloadRows),
  jetstream: rowsOf({ jetStreamSwitch }, jetStreamRows, historyRows),
  security: rowsOf(authRows, keyFileRows, hookRows, { allowOpenSwitch }, anonymousRows, corsRows, limitRows),
} as const;

type AnyRow = (typeof SETTINGS_TABLES)[keyof typeof SETTINGS_TABLES][number];

/** Every variable and its default (a dependent default, such as the drain window's, at most this). */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(Object.values(SETTINGS_TABLES).flat().map((row) => [row.env, row.default])),
) as { readonly [R in AnyRow as R['env']]: R['default'] };
