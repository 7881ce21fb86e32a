/**
 * The JetStream bus's stream against a real `nats-server -js`: made when missing, its limits and
 * subjects brought to the settings when it exists (storage and replicas left alone), its epoch, and
 * JetStream API errors told apart by their codes. (Retrying until JetStream answers is in
 * jetstream.test.ts, with a hub.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { isStreamNotFound, provisionStream, streamEpoch } from '../../src/bus/jetstream/stream.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const log = createLogger('silent');

describe('JetStream stream [jetstream]', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  const settingsFor = (stream: string, extra: Record<string, string> = {}) =>
    loadConfig(jetstreamEnv(nats, { HUB_JETSTREAM_STREAM: stream, HUB_SUBJECT_PREFIX: stream.toLowerCase(), ...extra })).jetstream!;
  const errorOf = (p: Promise<unknown>) => p.then(() => expect.unreachable('it succeeded'), (err: unknown) => err);
  const neverClosing = () => false;

  it('tells "stream not found" by its API error code, apart from other not-found errors', async () => {
    const settings = settingsFor('CODES');
    await provisionStream(nc, settings, log, neverClosing);
    expect(isStreamNotFound(await errorOf(jsm.streams.info('MISSING')))).toBe(true);
    // Also a 404, but for a consumer: not the stream's absence.
    expect(isStreamNotFound(await errorOf(jsm.consumers.info(settings.stream, 'missing')))).toBe(false);
    expect(isStreamNotFound(new Error('stream not found'))).toBe(false);
  });

  it('creates a missing stream over the prefix, with the configured limits', async () => {
    const settings = settingsFor('MADE', { HUB_JETSTREAM_MAX_MSGS: '50', HUB_JETSTREAM_STORAGE: 'memory' });
    const info = await provisionStream(nc, settings, log, neverClosing);
    expect(info.config).toMatchObject({ name: 'MADE', subjects: ['made.>'], max_msgs: 50, storage: StorageType.Memory });
    expect(info.state.last_seq).toBe(0);
  });

  it('brings an existing stream to the settings, keeping its storage, replicas, other subjects, messages and epoch', async () => {
    const before = await jsm.streams.add({ name: 'KEPT', subjects: ['older.>'], storage: StorageType.Memory, max_msgs: 1000 });
    await nc.jetstream().publish('older.x', new TextEncoder().encode('kept'));
    const settings = settingsFor('KEPT', { HUB_JETSTREAM_MAX_MSGS: '10', HUB_JETSTREAM_STORAGE: 'file' });
    const info = await provisionStream(nc, settings, log, neverClosing);
    expect(info.config).toMatchObject({ subjects: ['older.>', 'kept.>'], max_msgs: 10, storage: StorageType.Memory, num_replicas: before.config.num_replicas });
    expect(info.state.last_seq).toBe(1);
    expect(streamEpoch(info)).toBe(streamEpoch(before));
    // Set up again with nothing changed: the same stream, once.
    expect((await provisionStream(nc, settings, log, neverClosing)).config.subjects).toEqual(['older.>', 'kept.>']);
  });

  it('gives a stream deleted and made again a new epoch', async () => {
    const settings = settingsFor('AGAIN');
    const first = streamEpoch(await provisionStream(nc, settings, log, neverClosing));
    expect(streamEpoch(await provisionStream(nc, settings, log, neverClosing))).toBe(first);
    await jsm.streams.delete('AGAIN');
    expect(streamEpoch(await provisionStream(nc, settings, log, neverClosing))).not.toBe(first);
  });
});
