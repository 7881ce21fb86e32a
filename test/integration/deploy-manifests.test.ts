/**
 * The Kubernetes manifests in deploy/ agree with the hub and the image: settings that load, a grace
 * period that covers the shutdown, probe and metrics paths that answer, the image's user; and the
 * example is safe as copied: tokens verified with a key from a Secret, JetStream with a replica per
 * NATS server, streams that end before an ingress reload cuts them, a NATS disruption budget and disk
 * headroom, and public routes for exactly /events and /client/. No YAML library or cluster here: the
 * manifests are ours and simple, and these patterns read exactly the fields checked (a reformatted
 * field fails loudly, not silently).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { get } from '../helpers/http.js';
import { startTestHub } from '../helpers/hub.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { ingressLocationDirectives, ingressPaths } from '../helpers/ingress-nginx.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNginx } from '../helpers/nginx.js';
import { RawStream } from '../helpers/raw-stream.js';
import { keyPair, mint } from '../helpers/tokens.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');
/** main.ts exits this long after HUB_SHUTDOWN_TIMEOUT_MS if the graceful stop has not finished. */
const HARD_STOP_MARGIN_MS = 1000;
/** ingress-nginx's default worker-shutdown-timeout (its controller ConfigMap, not these manifests). */
const INGRESS_NGINX_WORKER_SHUTDOWN_TIMEOUT_MS = 240_000;
/** A stream ends at its maximum age plus up to 10% (the jitter in src/hub/hub.ts). */
const MAX_AGE_JITTER = 1.1;

function field(text: string, key: string): string {
  const match = new RegExp(`^\\s*-?\\s*${key}:\\s*"?([^"\\n#]+?)"?\\s*(#.*)?$`, 'm').exec(text);
  if (!match) throw new Error(`no "${key}:" field`);
  return match[1]!;
}

function allFields(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^\\s*-?\\s*${key}:\\s*"?([^"\\n#]+?)"?\\s*$`, 'gm'))].map((m) => m[1]!);
}

function hubEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of read('deploy/base/hub.env').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** What the test's Secret "ssehub-auth" holds: the public half of a fresh ES256 key pair. */
const signing = await keyPair('ES256');
const secretDir = mkdtempSync(join(tmpdir(), 'ssehub-secret-'));
afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

/** hub.env as a pod sees it, with the Secret's file where this machine has it instead of at its mountPath. */
function podEnv(): Record<string, string> {
  const env = hubEnv();
  if (env.HUB_AUTH_PUBLIC_KEY_FILE === undefined) return env;
  const keyFile = join(secretDir, basename(env.HUB_AUTH_PUBLIC_KEY_FILE));
  writeFileSync(keyFile, signing.publicPem);
  return { ...env, HUB_AUTH_PUBLIC_KEY_FILE: keyFile };
}

/** NATS configuration sizes: 1K is 1000, 1KB is 1024 (also M, G, T). */
function natsBytes(size: string): number {
  const m = /^(\d+)([KMGT]?)(B?)$/i.exec(size);
  if (!m) throw new Error(`"${size}" is not a NATS size`);
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** ' KMGT'.indexOf(m[2]!.toUpperCase() || ' ');
}

/** Kubernetes quantities in binary (Ki, Mi, Gi, Ti) or decimal (k, M, G, T) units. */
function quantityBytes(quantity: string): number {
  const m = /^(\d+)([kKMGT]?)(i?)$/.exec(quantity);
  if (!m) throw new Error(`"${quantity}" is not a Kubernetes quantity`);
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** ' KMGT'.indexOf(m[2]!.toUpperCase() || ' ');
}

/** The `key: value` lines of the first `<block>:` in a manifest made only of such lines. */
function labelsUnder(text: string, block: RegExp): string[] {
  const m = new RegExp(`${block.source}\\n((?:\\s+[\\w./-]+: \\S+\\n)+)`).exec(text);
  if (!m) throw new Error(`no ${block.source} followed by labels`);
  return m[1]!.trim().split(/\n\s*/);
}
const selectorOf = (manifest: string): string[] => labelsUnder(manifest, /selector:\n\s+matchLabels:/);
const podLabelsOf = (manifest: string): string[] => labelsUnder(manifest, /template:\n\s+metadata:\n\s+labels:/);

describe('deploy/ manifests', () => {
  it('every kustomization names files that exist', () => {
    const dirs = readdirSync(join(REPO, 'deploy'), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(REPO, 'deploy', d.name, 'kustomization.yaml')));
    expect(dirs.map((d) => d.name).sort()).toEqual(['base', 'example', 'gateway-api', 'ingress-nginx', 'nats', 'servicemonitor']);
    for (const dir of dirs) {
      const file = join('deploy', dir.name, 'kustomization.yaml');
      const text = read(file);
      // List items under resources/components/envs/files: "  - path".
      const entries = [...text.matchAll(/^(resources|components|envs|files):\n((?:\s+(?:- \S+|#.*)\n)+)/gm)].flatMap((m) =>
        [...m[2]!.matchAll(/^\s+- (\S+)$/gm)].map((e) => e[1]!),
      );
      expect(entries.length, file).toBeGreaterThan(0);
      for (const entry of entries) expect(existsSync(join(REPO, dirname(file), entry)), `${file}: ${entry}`).toBe(true);
    }
  });

  it('hub.env is a valid hub configuration', () => {
    const config = loadConfig(podEnv());
    expect(config.natsServers).toEqual(['nats://nats:4222']);
    expect(config.heartbeatMs * 2).toBeLessThan(Number(field(read('deploy/ingress-nginx/ingress.yaml'), 'nginx.ingress.kubernetes.io/proxy-read-timeout')) * 1000);
  });

  it('the grace period covers preStop, the whole shutdown and the hard-stop margin', () => {
    const deployment = read('deploy/base/deployment.yaml');
    const config = loadConfig(podEnv());
    const preStop = /command: \["sleep", "(\d+)"\]/.exec(deployment);
    expect(preStop).not.toBeNull();
    const graceSeconds = Number(field(deployment, 'terminationGracePeriodSeconds'));
    const neededMs = Number(preStop![1]) * 1000 + config.shutdownTimeoutMs + HARD_STOP_MARGIN_MS;
    expect(graceSeconds * 1000).toBeGreaterThanOrEqual(neededMs);
    // ...but not so long that a stuck pod holds a rollout for minutes.
    expect(graceSeconds * 1000).toBeLessThanOrEqual(neededMs + 10_000);
  });

  it('ports, probes and the metrics path are the ones the hub serves', async () => {
    const deployment = read('deploy/base/deployment.yaml');
    const port = Number(hubEnv().PORT ?? DEFAULTS.PORT);
    expect(Number(field(deployment, 'containerPort'))).toBe(port);
    expect(Number(field(deployment, 'prometheus.io/port'))).toBe(port);
    const paths = allFields(deployment, 'path');
    expect(paths.sort()).toEqual(['/healthz', '/readyz']);
    await using hub = await startTestHub();
    for (const path of [...paths, field(deployment, 'prometheus.io/path'), field(read('deploy/servicemonitor/servicemonitor.yaml'), 'path')]) {
      expect((await get(`${hub.url}${path}`)).status, path).toBe(200);
    }
  });

  it('runs as the image\'s user, non-root, read-only', () => {
    const deployment = read('deploy/base/deployment.yaml');
    const [uid, gid] = /^USER (\d+):(\d+)$/m.exec(read('Dockerfile'))!.slice(1);
    expect(field(deployment, 'runAsUser')).toBe(uid);
    expect(field(deployment, 'runAsGroup')).toBe(gid);
    expect(field(deployment, 'runAsNonRoot')).toBe('true');
    expect(field(deployment, 'readOnlyRootFilesystem')).toBe('true');
  });

  it('[deploy] verifies tokens with a key from the Secret the Deployment mounts, and opens nothing without one', () => {
    const env = hubEnv();
    const keyFile = env.HUB_AUTH_PUBLIC_KEY_FILE;
    expect(keyFile, 'hub.env: HUB_AUTH_PUBLIC_KEY_FILE').toBeDefined();
    // An inline key would sit in the ConfigMap; open mode or public topics must be chosen on purpose.
    for (const unset of ['HUB_AUTH_PUBLIC_KEY', 'HUB_AUTH_HS256_SECRET', 'HUB_ALLOW_OPEN', 'HUB_ANONYMOUS_SUBSCRIBE', 'HUB_ANONYMOUS_PUBLISH']) {
      expect(env[unset], `hub.env: ${unset}`).toBeUndefined();
    }
    const deployment = read('deploy/base/deployment.yaml');
    const mount = new RegExp(`- name: (\\S+)\\n\\s+mountPath: ${dirname(keyFile!)}\\n\\s+readOnly: true\\n`).exec(deployment);
    expect(mount, `a read-only volumeMount at ${dirname(keyFile!)}`).not.toBeNull();
    const secret = new RegExp(`- name: ${mount![1]}\\n\\s+secret:\\n\\s+secretName: (\\S+)\\n`).exec(deployment);
    expect(secret, `volume ${mount![1]} from a Secret`).not.toBeNull();
    // The walk-through creates that Secret with that file, and the config loads with it in place.
    expect(read('docs/deploy.md')).toContain(`create secret generic ${secret![1]} --from-file=${basename(keyFile!)}`);
    expect(loadConfig(podEnv()).auth?.publicKeyPem).toBe(signing.publicPem.trim());
  });

  it('[deploy] runs JetStream mode with one stream replica per NATS server', () => {
    const { jetstream } = loadConfig(podEnv());
    expect(jetstream, 'HUB_JETSTREAM=1').toBeDefined();
    expect(jetstream!.replicas).toBe(3);
    expect(Number(field(read('deploy/nats/statefulset.yaml'), 'replicas'))).toBe(jetstream!.replicas);
  });

  it('[deploy] ends streams before an old ingress-nginx worker cuts them after a reload', () => {
    const { maxConnectionAgeMs } = loadConfig(podEnv());
    expect(maxConnectionAgeMs).toBeGreaterThan(0);
    expect(maxConnectionAgeMs * MAX_AGE_JITTER).toBeLessThan(INGRESS_NGINX_WORKER_SHUTDOWN_TIMEOUT_MS);
  });

  it('[deploy] NATS has a disruption budget that selects its pods and keeps a JetStream majority', () => {
    const statefulSet = read('deploy/nats/statefulset.yaml');
    const pdb = read('deploy/nats/pdb.yaml');
    expect(read('deploy/nats/kustomization.yaml')).toMatch(/^\s+- pdb\.yaml$/m);
    expect(field(pdb, 'kind')).toBe('PodDisruptionBudget');
    // It selects every NATS pod and no hub pod.
    expect(podLabelsOf(statefulSet)).toEqual(expect.arrayContaining(selectorOf(pdb)));
    expect(podLabelsOf(read('deploy/base/deployment.yaml'))).not.toEqual(expect.arrayContaining(selectorOf(pdb)));
    const replicas = Number(field(statefulSet, 'replicas'));
    const maxUnavailable = Number(field(pdb, 'maxUnavailable'));
    expect(maxUnavailable).toBeGreaterThanOrEqual(1); // 0 would block every node drain
    expect(replicas - maxUnavailable).toBeGreaterThan(replicas / 2);
  });

  it('[deploy] NATS keeps 20% of its volume free of JetStream files', () => {
    const maxFileStore = natsBytes(field(read('deploy/nats/nats.conf'), 'max_file_store'));
    const volume = quantityBytes(field(read('deploy/nats/statefulset.yaml'), 'storage'));
    expect(maxFileStore).toBeLessThanOrEqual(0.8 * volume);
  });

  it('[deploy] routes /events and /client/ publicly (no /publish, no /metrics)', () => {
    expect(ingressPaths()).toEqual(['= /events', '= /client', '/client/']);
    expect(allFields(read('deploy/gateway-api/httproute.yaml'), 'value')).toEqual(['/events', '/client']);
  });

  it('[deploy] [nginx] through the Ingress\'s routes the README\'s client import and /events reach the hub, and nothing else does', async () => {
    const imported = /import \{ subscribe \} from '(https:\/\/[^']+)'/.exec(read('README.md'));
    expect(imported, "README's import of the client library").not.toBeNull();
    await using hub = await startTestHub();
    await using nginx = await startNginx({ upstreams: [{ port: hub.port }], location: ingressLocationDirectives(), paths: ingressPaths() });
    for (const path of [new URL(imported![1]!).pathname, '/client/ssehub.d.ts']) {
      const res = await get(`${nginx.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toBe(await (await get(`${hub.url}${path}`)).text());
    }
    const stream = new RawStream(`${nginx.url}/events?topic=demo`);
    try {
      await stream.waitForText('event: hub.open');
      expect(stream.status).toBe(200);
    } finally {
      stream.close();
    }
    for (const [method, path] of [['POST', '/publish?topic=demo'], ['GET', '/metrics'], ['GET', '/readyz'], ['GET', '/']] as const) {
      const res = await fetch(`${nginx.url}${path}`, { method, body: method === 'POST' ? 'hello' : undefined, signal: AbortSignal.timeout(5000) });
      expect(res.status, `${method} ${path}`).toBe(404);
      // nginx's own page: the hub answers every refusal in JSON.
      expect(res.headers.get('content-type'), `${method} ${path}`).toMatch(/^text\/html/);
    }
  });
});

describe('[deploy] [jetstream] a hub with the example\'s hub.env', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  /** The pod's settings on this machine: the test's single nats-server for ../nats, so one stream replica. */
  const localEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
    ...podEnv(),
    NATS_URL: nats.url,
    HUB_JETSTREAM_REPLICAS: '1',
    ...overrides,
  });

  it('[deploy] [jetstream] refuses open mode on NATS without HUB_ALLOW_OPEN, naming it, and starts open with it', async () => {
    // An operator who forgot the key (a blank variable is an unset one).
    const keyless = localEnv({ HUB_AUTH_PUBLIC_KEY_FILE: '', HUB_ALLOW_OPEN: '' });
    // A hub that does start (the failure this guards against) is stopped again, not left running.
    const refusal = await startHubProcess(keyless).then(
      async (started) => `started: ${await started.stop('SIGKILL')}`,
      (err: Error) => err.message,
    );
    expect(refusal).toMatch(/exited \(1\) before listening: ssehub: bad configuration: HUB_ALLOW_OPEN must be 1 for a hub on a NATS bus/);
    await using open = await startHubProcess({ ...keyless, HUB_ALLOW_OPEN: '1' });
    const res = await get(`${open.url}/events?topic=demo`);
    await res.body?.cancel();
    expect(res.status).toBe(200);
  });

  it('[deploy] [jetstream] with the Secret\'s key, a stream needs a token, and one signed with the matching private key opens it', async () => {
    await using hub = await startHubProcess(localEnv({ HUB_ALLOW_OPEN: '' }));
    const refused = await get(`${hub.url}/events?topic=demo`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthorized' });
    const token = await mint({ subscribe: ['demo'] }, { alg: 'ES256', key: signing.privateKey, audience: hubEnv().HUB_AUTH_AUDIENCE });
    const stream = new RawStream(`${hub.url}/events?topic=demo`, { authorization: `Bearer ${token}` });
    try {
      await stream.waitForText('event: hub.open');
      expect(stream.status).toBe(200);
    } finally {
      stream.close();
    }
  });
});
