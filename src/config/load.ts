/** Parse and validate the environment once, area by area, and freeze the result. */
import { loadAdmin } from './admin.js';
import { loadAccess } from './auth.js';
import { busRows } from './bus.js';
import { controlRows, presenceRows } from './control.js';
import { loadCors } from './cors.js';
import { loadJetStream } from './jetstream.js';
import { loadLifecycle } from './lifecycle.js';
import { limitRows } from './limits.js';
import { loadPublish } from './publish.js';
import { reloadRows } from './reload.js';
import { replayRows } from './replay.js';
import type { Config } from './schema.js';
import { loadServer } from './server.js';
import { readRows, type Env } from './setting.js';
import { streamRows } from './streams.js';

/** Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const bus = readRows(env, busRows);
  const streams = readRows(env, streamRows);
  const server = loadServer(env, bus.natsServers);
  return Object.freeze({
    ...server,
    ...bus,
    ...readRows(env, controlRows),
    ...readRows(env, presenceRows),
    ...streams,
    ...loadPublish(env, streams),
    ...readRows(env, replayRows),
    ...loadLifecycle(env),
    ...loadJetStream(env, bus),
    ...loadAccess(env, streams.maxTopicLength, bus.natsServers),
    ...loadCors(env),
    ...readRows(env, limitRows),
    ...loadAdmin(env, server.workers),
    ...readRows(env, reloadRows),
  });
}
