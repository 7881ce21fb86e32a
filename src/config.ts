/**
 * Every setting of the hub, read from the environment once at start, validated, and frozen.
 * A bad value stops the process with a one-line error that names the variable.
 * The schema lives in config/, one file per area, one row per setting (variable, key, default, parser,
 * doc); the Config type, the validation and README's settings tables all come from those rows.
 */
export { loadConfig } from './config/load.js';
export { DEFAULTS, type Config } from './config/schema.js';
export type { AuthConfig, HookConfig } from './config/auth.js';
export type { JetStreamSettings } from './config/jetstream.js';
export { DRAIN_MARGIN_MS } from './config/lifecycle.js';
export { redactCredentials } from './config/bus.js';
export type { LogLevel } from './config/server.js';
