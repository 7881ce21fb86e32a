/**
 * The admin listener against a real hub: a CPU profile under load that names the hub's own code,
 * one profile at a time, bounded seconds, a parseable heap snapshot, the stats fields, and the token
 * on a non-loopback address.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startHub } from '../../src/server.js';
import { publish, startTestHub, type TestHub } from '../helpers/hub.js';
import { Subscriber } from '../helpers/sse-client.js';
import { withTimeout } from '../helpers/wait.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

function get(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
}

describe('admin listener [admin]', () => {
  let hub: TestHub;
  let admin: string;
  beforeAll(async () => {
    hub = await startTestHub({ HUB_ADMIN_PORT: '0' });
    admin = hub.admin!.url;
  });
  afterAll(() => hub?.shutdown());

  it('[admin] a profile under load is a valid .cpuprofile naming the hub\'s own functions; a concurrent one gets 409', async () => {
    const subscribers = Array.from({ length: 20 }, () => new Subscriber(hub.url, ['load']));
    let loading = true;
    const load = (async () => {
      let n = 0;
      while (loading) await Promise.all(Array.from({ length: 10 }, () => publish(hub.url, 'load', `event ${n++} ${'x'.repeat(200)}`)));
    })();
    try {
      await Promise.all(subscribers.map((s) => s.open(1, 10_000)));
      const first = get(`${admin}/debug/profile?seconds=2`, {}, 30_000);
      // The first request holds the profiler until it answers; ask again until that is so.
      let second: Response;
      do second = await get(`${admin}/debug/profile?seconds=1`, {}, 30_000);
      while (second.status === 200);
      expect(second.status).toBe(409);
      expect(await second.json()).toMatchObject({ code: 'profile_in_progress' });

      const res = await withTimeout('the profile', first, 30_000);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="ssehub-\d+-.+\.cpuprofile"$/);
      const profile = (await res.json()) as CpuProfile;
      expect(profile.nodes.length).toBeGreaterThan(1);
      expect(profile.samples.length).toBeGreaterThan(0);
      expect(profile.timeDeltas.length).toBe(profile.samples.length);
      expect(profile.startTime).toBeLessThan(profile.endTime);
      const ids = new Set(profile.nodes.map((node) => node.id));
      expect(profile.samples.every((id) => ids.has(id))).toBe(true);
      const hubFrames = profile.nodes.filter((node) => /\/src\/(hub\/hub|sse\/writer|sse\/connection)\.ts/.test(node.callFrame.url));
      expect(hubFrames.map((node) => node.callFrame.functionName)).toEqual(expect.arrayContaining([expect.stringMatching(/\w/)]));
    } finally {
      loading = false;
      await withTimeout('the load to stop', load, 10_000);
      for (const s of subscribers) s.close();
    }
  }, 60_000);

  it('[admin] seconds above 60, zero or not a number get 400 bad_profile_seconds', async () => {
    for (const seconds of ['61', '0', 'ten', '1.5']) {
      const res = await get(`${admin}/debug/profile?seconds=${seconds}`);
      expect(res.status, seconds).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'bad_profile_seconds' });
    }
  });

  it('[admin] /debug/heap streams a parseable heap snapshot', async () => {
    const res = await get(`${admin}/debug/heap`, {}, 60_000);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('content-disposition')).toMatch(/\.heapsnapshot"$/);
    const snapshot = JSON.parse(await withTimeout('the snapshot body', res.text(), 60_000)) as { snapshot: { meta: { node_fields: string[] }; node_count: number } };
    expect(snapshot.snapshot.meta.node_fields).toContain('name');
    expect(snapshot.snapshot.node_count).toBeGreaterThan(0);
  }, 90_000);

  it('[admin] /debug/stats has event-loop delay, GC pauses, streams, replay fill and the bus', async () => {
    await publish(hub.url, 'stats', 'one');
    using subscriber = new Subscriber(hub.url, ['stats']);
    await subscriber.open();
    const stats = (await (await get(`${admin}/debug/stats`)).json()) as Record<string, Record<string, unknown>>;
    const percentiles = { count: expect.any(Number), p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) };
    expect(stats.eventLoopDelayMs).toMatchObject({ ...percentiles, sinceMs: expect.any(Number), mean: expect.any(Number) });
    expect(stats.gcPauseMs).toMatchObject({ ...percentiles, total: expect.any(Number), window: 1024 });
    expect(stats.streams!.open).toBeGreaterThanOrEqual(1);
    expect(stats.streams!.bufferedBytes).toMatchObject({ ...percentiles, limit: 262_144 });
    expect(stats.streams!.ageMs).toMatchObject(percentiles);
    expect(stats.replay).toMatchObject({ maxEvents: 10_000, maxBytes: 67_108_864, eventsFill: expect.any(Number), bytesFill: expect.any(Number) });
    expect(stats.replay!.events).toBeGreaterThanOrEqual(1);
    expect(stats.bus).toEqual({ kind: 'memory', connected: true, roundTripMs: null });
  });

  it('[admin] a hub whose admin port is taken fails to start with the bind error', async () => {
    const taken = loadConfig({ HOST: '127.0.0.1', PORT: '0', HUB_ADMIN_PORT: String(hub.admin!.port) });
    await expect(withTimeout('the start to fail', startHub(taken, createLogger('silent')), 10_000)).rejects.toThrow(/EADDRINUSE/);
  });

  it('[admin] answers 404 for other paths and 405 for other methods', async () => {
    expect((await get(`${admin}/debug/nothing`)).status).toBe(404);
    const post = await fetch(`${admin}/debug/stats`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    expect(post.status).toBe(405);
  });
});

describe('admin listener off loopback [admin]', () => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((nic) => nic?.family === 'IPv4' && !nic.internal)?.address;

  it('[admin] the machine has a non-loopback IPv4 address to bind', () => {
    expect(address, 'no non-internal IPv4 address in os.networkInterfaces()').toBeDefined();
  });

  it('[admin] config refuses a non-loopback admin host without HUB_ADMIN_TOKEN', () => {
    const env = { HUB_ADMIN_PORT: '0', HUB_ADMIN_HOST: address! };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/^HUB_ADMIN_TOKEN must be set/);
    expect(() => loadConfig({ ...env, HUB_ADMIN_HOST: '127.0.0.1' })).not.toThrow();
  });

  it('[admin] with a token, a request without Authorization or with a wrong one gets 401', async () => {
    await using hub = await startTestHub({ HUB_ADMIN_PORT: '0', HUB_ADMIN_HOST: address!, HUB_ADMIN_TOKEN: ADMIN_TOKEN });
    const stats = `${hub.admin!.url}/debug/stats`;
    expect(hub.admin!.url).toContain(address!);
    const bare = await get(stats);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ code: 'unauthorized' });
    expect((await get(stats, { Authorization: `Bearer ${ADMIN_TOKEN}x` })).status).toBe(401);
    expect((await get(`${hub.admin!.url}/debug/heap`, { Authorization: 'Basic abc' })).status).toBe(401);
    expect((await get(stats, { Authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });
});
