/** The settings that put a test hub on JetStream. */
import type { NatsServer } from './nats-server.js';
import { OPEN_ON_PURPOSE } from './open-mode.js';

let streams = 0;

/**
 * Environment for startTestHub (or a hub process) on JetStream at `nats`, with a stream and subject
 * prefix of its own: streams may not overlap, and tests sharing one nats-server stay apart. Hubs
 * meant to share a stream (replicas) take the same returned object. `extra` is merged last.
 */
export function jetstreamEnv(nats: Pick<NatsServer, 'url'>, extra: Record<string, string> = {}): Record<string, string> {
  const n = ++streams;
  return { ...OPEN_ON_PURPOSE, NATS_URL: nats.url, HUB_JETSTREAM: '1', HUB_JETSTREAM_STREAM: `JS${n}`, HUB_SUBJECT_PREFIX: `js${n}`, ...extra };
}
