/**
 * Reload without restart, against the real entry point (src/main.ts in its own process, so SIGHUP
 * is a real signal): keys rotated by SIGHUP and by a Kubernetes-style Secret update (a symlink
 * swap) while 100 streams are open. Streams whose token the new keys refuse end as
 * credentials-revoked; anonymous streams and streams of the key that did not change stay open and
 * keep receiving; new tokens work. A bad new value keeps the old configuration and is counted. With
 * HUB_WORKERS=2 the primary passes SIGHUP to both workers.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get } from '../helpers/http.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { publish } from '../helpers/hub.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';
import { keyPair, mint, type KeyPair } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

const SECRET_A = 'reload-test-secret-A-0123456789abcdefghij';
const SECRET_B = 'reload-test-secret-B-0123456789abcdefghij';
const HS_STREAMS = 40;
const ES_STREAMS = 30;
const ANON_STREAMS = 30;
const OPEN_TIMEOUT_MS = 20_000;
// A hub process, 100 streams, keys and reloads: well past vitest's default on a shared machine.
const TEST_TIMEOUT_MS = 120_000;

const hsToken = (secret: string) => mint({ subscribe: ['orders.hs'] }, { key: new TextEncoder().encode(secret), expiresIn: 600 });
const esToken = (pair: KeyPair) => mint({ subscribe: ['orders.es'] }, { alg: 'ES256', key: pair.privateKey, expiresIn: 600 });

function bearer(token: string): { headers: () => Record<string, string> } {
  return { headers: () => ({ authorization: `Bearer ${token}` }) };
}

/** A GET /events answered with its status only: 200 means the token opened a stream (it is then closed). */
async function streamStatus(url: string, topic: string, token: string): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${url}/events?topic=${topic}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.any([controller.signal, AbortSignal.timeout(5000)]) });
  controller.abort();
  return res.status;
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrapeMetrics(url), name, labels) ?? 0;
}

const revokedCount = (url: string) => metric(url, 'ssehub_connections_closed_total', { reason: 'credentials-revoked' });

interface Streams {
  readonly hs: Subscriber[];
  readonly es: Subscriber[];
  readonly anon: Subscriber[];
  readonly all: Subscriber[];
}

async function openStreams(url: string, hs: string, es: string): Promise<Streams> {
  const streams = {
    hs: Array.from({ length: HS_STREAMS }, () => new Subscriber(url, ['orders.hs'], bearer(hs))),
    es: Array.from({ length: ES_STREAMS }, () => new Subscriber(url, ['orders.es'], bearer(es))),
    anon: Array.from({ length: ANON_STREAMS }, () => new Subscriber(url, ['public.news'])),
  };
  const all = [...streams.hs, ...streams.es, ...streams.anon];
  await Promise.all(all.map((s) => s.open(1, OPEN_TIMEOUT_MS)));
  return { ...streams, all };
}

/** `kept` are still on their first connection and get a marker published now; nothing in `ended` reconnected. */
async function expectKept(url: string, kept: readonly Subscriber[], marker: string): Promise<void> {
  for (const topic of ['orders.hs', 'orders.es', 'public.news']) expect([200, 202]).toContain((await publish(url, topic, marker)).status);
  await Promise.all(kept.map((s) => waitFor(`marker ${marker}`, () => s.messages.some((m) => m.data === marker), 10_000)));
  for (const s of kept) expect(s.opens).toBe(1);
}

/** The common settings: keys from files, anonymous topics, publishing open to the test. */
function hubEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HUB_AUTH_HS256_SECRET_FILE: join(dir, 'hs256'),
    HUB_AUTH_PUBLIC_KEY_FILE: join(dir, 'es256.pem'),
    HUB_ANONYMOUS_SUBSCRIBE: 'public.>',
    HUB_ANONYMOUS_PUBLISH: 'orders.>,public.>',
    // A revoked client's reconnect (refused with 401) comes soon, so EventSource gives up within the test.
    HUB_RETRY_MS: '100',
    ...extra,
  };
}

describe('reload without restart [reload]', () => {
  let dir: string;
  let subs: Subscriber[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssehub-reload-'));
  });
  afterEach(() => {
    for (const s of subs) s.close();
    subs = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('[reload] SIGHUP: a rotated HS256 secret, then a rotated PEM key, end only the streams of the old key; new tokens work', async () => {
    const [es1, es2] = await Promise.all([keyPair('ES256', 'one'), keyPair('ES256', 'two')]);
    writeFileSync(join(dir, 'hs256'), `${SECRET_A}\n`);
    writeFileSync(join(dir, 'es256.pem'), es1.publicPem);
    await using hub = await startHubProcess(hubEnv(dir, { HUB_RELOAD_WATCH: '0' }));
    const streams = await openStreams(hub.url, await hsToken(SECRET_A), await esToken(es1));
    subs = streams.all;

    writeFileSync(join(dir, 'hs256'), SECRET_B);
    hub.child.kill('SIGHUP');
    await waitFor('the HS256 streams to be revoked', async () => (await revokedCount(hub.url)) === HS_STREAMS, 15_000);
    await expectKept(hub.url, [...streams.es, ...streams.anon], 'after-hs-rotation');
    expect(await metric(hub.url, 'ssehub_connections')).toBe(ES_STREAMS + ANON_STREAMS);
    expect(await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })).toBe(1);
    expect(await streamStatus(hub.url, 'orders.hs', await hsToken(SECRET_A))).toBe(401);
    // The revoked clients' reconnects are refused too: EventSource gives up (CLOSED) rather than looping.
    await Promise.all(streams.hs.map((s) => waitFor('a revoked client to give up', () => s.source.readyState === 2, 10_000)));
    const newToken = await hsToken(SECRET_B);
    const renewed = Array.from({ length: 5 }, () => new Subscriber(hub.url, ['orders.hs'], bearer(newToken)));
    subs.push(...renewed);
    await Promise.all(renewed.map((s) => s.open(1, OPEN_TIMEOUT_MS)));

    writeFileSync(join(dir, 'es256.pem'), es2.publicPem);
    hub.child.kill('SIGHUP');
    await waitFor('the ES256 streams to be revoked', async () => (await revokedCount(hub.url)) === HS_STREAMS + ES_STREAMS, 15_000);
    await expectKept(hub.url, [...streams.anon, ...renewed], 'after-pem-rotation');
    expect(await streamStatus(hub.url, 'orders.es', await esToken(es1))).toBe(401);
    expect(await streamStatus(hub.url, 'orders.es', await esToken(es2))).toBe(200);
    expect(await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })).toBe(2);
    expect(await metric(hub.url, 'ssehub_slow_consumer_closes_total')).toBe(0);
  }, TEST_TIMEOUT_MS);

  it('[reload] a Secret volume update (symlink swap) reloads by itself: both rotated keys revoke their streams, the anonymous ones stay', async () => {
    const [es1, es2] = await Promise.all([keyPair('ES256', 'one'), keyPair('ES256', 'two')]);
    // What the kubelet's atomic writer makes: a timestamped directory, `..data` pointing at it, and
    // each key a symlink through `..data`. An update writes a new directory and renames a new `..data` over the old.
    const version = (name: string, secret: string, pem: string): void => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'hs256'), secret);
      writeFileSync(join(dir, name, 'es256.pem'), pem);
    };
    version('..2026_12_01_v1', SECRET_A, es1.publicPem);
    symlinkSync('..2026_12_01_v1', join(dir, '..data'));
    symlinkSync('..data/hs256', join(dir, 'hs256'));
    symlinkSync('..data/es256.pem', join(dir, 'es256.pem'));
    await using hub = await startHubProcess(hubEnv(dir, { HUB_RELOAD_DEBOUNCE_MS: '200' }));
    await hub.waitForLog('that it watches the key files', (line) => line.includes('"watching files for a reload"'));
    const streams = await openStreams(hub.url, await hsToken(SECRET_A), await esToken(es1));
    subs = streams.all;

    version('..2026_12_01_v2', SECRET_B, es2.publicPem);
    symlinkSync('..2026_12_01_v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await waitFor('both keys\' streams to be revoked', async () => (await revokedCount(hub.url)) === HS_STREAMS + ES_STREAMS, 20_000);
    await expectKept(hub.url, streams.anon, 'after-secret-update');
    // One burst of events, one reload: the debounce took the swap as one change.
    expect(await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })).toBe(1);
    expect(await streamStatus(hub.url, 'orders.hs', await hsToken(SECRET_B))).toBe(200);
    expect(await streamStatus(hub.url, 'orders.es', await esToken(es2))).toBe(200);
    expect(await streamStatus(hub.url, 'orders.hs', await hsToken(SECRET_A))).toBe(401);
  }, TEST_TIMEOUT_MS);

  it('[reload] a bad new value is refused whole: the old keys stay, one line names the variable, the metric counts it', async () => {
    const es1 = await keyPair('ES256', 'one');
    writeFileSync(join(dir, 'hs256'), SECRET_A);
    writeFileSync(join(dir, 'es256.pem'), es1.publicPem);
    const configFile = join(dir, 'hub.env');
    writeFileSync(configFile, '# live settings\nHUB_MAX_CONNECTIONS=1000\n');
    await using hub = await startHubProcess(hubEnv(dir, { HUB_RELOAD_WATCH: '0', HUB_CONFIG_FILE: configFile }));
    const token = await hsToken(SECRET_A);
    const kept = Array.from({ length: 10 }, () => new Subscriber(hub.url, ['orders.hs'], bearer(token)));
    subs = [...kept];
    await Promise.all(kept.map((s) => s.open(1, OPEN_TIMEOUT_MS)));

    // A rotation to a secret that is too short, together with a good change: neither applies.
    writeFileSync(join(dir, 'hs256'), 'short');
    writeFileSync(configFile, 'HUB_MAX_CONNECTIONS=5\n');
    hub.child.kill('SIGHUP');
    const refusal = await hub.waitForLog('the refusal', (line) => line.includes('reload refused'));
    expect(JSON.parse(refusal)).toMatchObject({ variable: 'HUB_AUTH_HS256_SECRET_FILE' });
    expect(await metric(hub.url, 'ssehub_reloads_total', { result: 'refused' })).toBe(1);
    expect(await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })).toBe(0);
    await expectKept(hub.url, kept, 'after-refusal');
    // Still 1000 streams allowed, still the old secret.
    const more = Array.from({ length: 3 }, () => new Subscriber(hub.url, ['orders.hs'], bearer(token)));
    subs.push(...more);
    await Promise.all(more.map((s) => s.open(1, OPEN_TIMEOUT_MS)));

    // A config file line that is not a setting is refused the same way, naming HUB_CONFIG_FILE.
    writeFileSync(join(dir, 'hs256'), SECRET_A);
    writeFileSync(configFile, 'HUB_MAX_CONECTIONS=5\n');
    hub.child.kill('SIGHUP');
    await waitFor('the second refusal', async () => (await metric(hub.url, 'ssehub_reloads_total', { result: 'refused' })) === 2, 10_000);
    expect(hub.logs.filter((line) => line.includes('reload refused')).map((line) => JSON.parse(line).variable)).toEqual(['HUB_AUTH_HS256_SECRET_FILE', 'HUB_CONFIG_FILE']);

    // A good file applies its live value and says which fixed one it ignored.
    writeFileSync(configFile, `HUB_MAX_CONNECTIONS=${kept.length + more.length}\nHUB_REPLAY_MAX_EVENTS=5\n`);
    hub.child.kill('SIGHUP');
    await waitFor('the reload to apply', async () => (await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })) === 1, 10_000);
    const ignored = await hub.waitForLog('the ignored settings', (line) => line.includes('reload ignored settings'));
    expect(JSON.parse(ignored)).toMatchObject({ ignored: ['HUB_REPLAY_MAX_EVENTS'] });
    const full = await get(`${hub.url}/events?topic=public.news`);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ code: 'too_many_connections' });
    for (const s of [...kept, ...more]) expect(s.opens).toBe(1);
  }, TEST_TIMEOUT_MS);

  it('[reload] [cluster] [nats] with HUB_WORKERS=2, SIGHUP to the primary reloads every worker', async () => {
    writeFileSync(join(dir, 'hs256'), SECRET_A);
    const es1 = await keyPair('ES256', 'one');
    writeFileSync(join(dir, 'es256.pem'), es1.publicPem);
    await using nats = await startNatsServer();
    await using hub: HubProcess = await startHubProcess(hubEnv(dir, { NATS_URL: nats.url, HUB_WORKERS: '2', HUB_RELOAD_WATCH: '0' }), 0, 60_000);
    // A worker takes connections once it listens, before its NATS connection is up (it then answers
    // 503): wait for both, so that no stream is refused on the way in.
    await waitFor('both workers to be up', () => hub.logs.filter((line) => line.includes('"ssehub listening"')).length === 2, 60_000);
    await waitFor('both workers to be ready', async () => (await Promise.all([0, 1, 2, 3].map(async () => (await fetch(`${hub.url}/readyz`)).status))).every((status) => status === 200), 60_000);
    const token = await hsToken(SECRET_A);
    // The primary hands connections to the workers in turn: streams sit on both.
    const old = Array.from({ length: 20 }, () => new Subscriber(hub.url, ['orders.hs'], bearer(token)));
    const anon = Array.from({ length: 20 }, () => new Subscriber(hub.url, ['public.news']));
    subs = [...old, ...anon];
    await Promise.all(subs.map((s) => s.open(1, OPEN_TIMEOUT_MS)));

    writeFileSync(join(dir, 'hs256'), SECRET_B);
    hub.child.kill('SIGHUP');
    // The pod's /metrics adds up the workers: two applied reloads, and every old stream revoked,
    // which only happens if the worker holding it reloaded.
    await waitFor('both workers to reload', async () => (await metric(hub.url, 'ssehub_reloads_total', { result: 'applied' })) === 2, 15_000);
    await waitFor('every old stream to be revoked', async () => (await revokedCount(hub.url)) === old.length, 15_000);
    await expectKept(hub.url, anon, 'after-cluster-reload');
    expect(hub.logs.filter((line) => line.includes('"configuration reloaded"'))).toHaveLength(2);
  }, TEST_TIMEOUT_MS);
});
