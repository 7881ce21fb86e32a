/** Settings of `POST /publish` beyond one event's size: the batch form and overload pacing. */
import { ConfigError } from '../errors.js';
import { int } from './parsers.js';
import { isSet, readRows, readSetting, setting, type Env, type ValuesOf } from './setting.js';
import { streamRows, type StreamConfig } from './streams.js';

export const publishRows = {
  maxBatchEvents: setting({ env: 'HUB_PUBLISH_MAX_BATCH_EVENTS', default: 1000, parse: int(1, 100_000), doc: 'most events in one batch publish' }),
  maxBatchBytes: setting({
    env: 'HUB_PUBLISH_MAX_BATCH_BYTES',
    default: 1024 * 1024,
    parse: int(1024, 256 * 1024 * 1024),
    doc: 'largest body of a batch publish (each event\'s `data` stays within `HUB_MAX_EVENT_BYTES`)',
  }),
  // Only many streams behind at once make it: one stuck stream is the slow-consumer limit's to
  // close, which is why the bound is at least HUB_MAX_BUFFERED_BYTES (checked below).
  maxBacklogBytes: setting({
    env: 'HUB_PUBLISH_MAX_BACKLOG_BYTES',
    default: 64 * 1024 * 1024,
    parse: int(0, 64 * 1024 * 1024 * 1024),
    doc: 'unsent bytes of all streams together above which a publish gets `503 overloaded` with `Retry-After`; at least `HUB_MAX_BUFFERED_BYTES`, and by default grows to it; 0 = off',
  }),
};

export type PublishConfig = ValuesOf<typeof publishRows>;

export function loadPublish(env: Env, streams: StreamConfig): PublishConfig {
  const config = readRows(env, publishRows);
  const row = publishRows.maxBacklogBytes;
  // Unset, the bound follows a larger per-stream bound, so only a bound the user set can conflict with it.
  if (!isSet(env, row)) return { ...config, maxBacklogBytes: Math.max(row.default, streams.maxBufferedBytes) };
  const maxBacklogBytes = readSetting(env, row);
  if (maxBacklogBytes !== 0 && maxBacklogBytes < streams.maxBufferedBytes) {
    throw new ConfigError(
      row.env,
      `must be 0 or at least ${streamRows.maxBufferedBytes.env} (${streams.maxBufferedBytes}): below it one stuck stream would stop every publisher before it is closed as a slow consumer`,
    );
  }
  return config;
}
