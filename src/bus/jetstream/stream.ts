/**
 * The stream every event lives in: created when missing, its limits brought to the settings when
 * it exists, set up again and again until JetStream answers; and the epoch its sequence numbers
 * are ids under.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiscardPolicy, NatsError, nanos, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig, type StreamInfo } from 'nats';
import type { Logger } from '../../log.js';
import type { JetStreamSettings } from '../../config.js';

// Longest pause between attempts to set the stream up.
const SETUP_RETRY_MAX_MS = 10_000;

/** JetStream API error codes (`api_error.err_code`), as nats-server numbers them. */
const JetStreamApiError = {
  StreamNotFound: 10059,
} as const;

/**
 * Sets the stream up, retrying with backoff until it works or `closing()` says to stop.
 * JetStream may answer later than NATS does (a restarting cluster electing stream leaders): keep
 * trying rather than stay unready until someone restarts the pod.
 */
export async function provisionStream(nc: NatsConnection, settings: JetStreamSettings, log: Logger, closing: () => boolean): Promise<StreamInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureStream(await nc.jetstreamManager(), settings, log);
    } catch (err) {
      if (closing()) throw err;
      log.error({ err, attempt }, 'jetstream stream setup failed; retrying');
      await sleep(Math.min(SETUP_RETRY_MAX_MS, 250 * 2 ** attempt));
    }
  }
}

/** Same stream, same epoch on every node; a stream deleted and made again is a new epoch. */
export function streamEpoch(info: StreamInfo): string {
  return createHash('sha256').update(`${info.config.name}@${info.created}`).digest('hex').slice(0, 8);
}

async function ensureStream(jsm: JetStreamManager, s: JetStreamSettings, log: Logger): Promise<StreamInfo> {
  const wanted: Partial<StreamConfig> = {
    name: s.stream,
    subjects: [s.subjects],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    storage: s.storage === 'file' ? StorageType.File : StorageType.Memory,
    num_replicas: s.replicas,
    max_msgs: s.maxMsgs,
    max_bytes: s.maxBytes,
    max_age: nanos(s.maxAgeMs),
    duplicate_window: nanos(s.duplicateWindowMs),
  };
  try {
    const existing = await jsm.streams.info(s.stream);
    const subjects = existing.config.subjects.includes(s.subjects) ? existing.config.subjects : [...existing.config.subjects, s.subjects];
    // Storage and replicas of an existing stream are left as they are (changing them needs a migration).
    const { storage: _storage, num_replicas: _replicas, name: _name, ...limits } = wanted;
    return await jsm.streams.update(s.stream, { ...existing.config, ...limits, subjects });
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    log.info({ stream: s.stream }, 'creating the JetStream stream');
    return jsm.streams.add(wanted);
  }
}

/** By the API's error code: the message text is the server's wording, and a consumer's 404 reads alike. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof NatsError && err.api_error?.err_code === JetStreamApiError.StreamNotFound;
}
