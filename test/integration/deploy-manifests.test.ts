/**
 * The Kubernetes manifests in deploy/ agree with the hub and the image: settings that load, a grace
 * period that covers the shutdown, probe and metrics paths that answer, the image's user, and only
 * /events exposed publicly. No YAML library or cluster here: the manifests are ours and simple,
 * and these patterns read exactly the fields checked (a reformatted field fails loudly, not silently).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { get } from '../helpers/http.js';
import { startTestHub } from '../helpers/hub.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');
/** main.ts exits this long after HUB_SHUTDOWN_TIMEOUT_MS if the graceful stop has not finished. */
const HARD_STOP_MARGIN_MS = 1000;

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
    const config = loadConfig(hubEnv());
    expect(config.natsServers).toEqual(['nats://nats:4222']);
    expect(config.heartbeatMs * 2).toBeLessThan(Number(field(read('deploy/ingress-nginx/ingress.yaml'), 'nginx.ingress.kubernetes.io/proxy-read-timeout')) * 1000);
  });

  it('the grace period covers preStop, the whole shutdown and the hard-stop margin', () => {
    const deployment = read('deploy/base/deployment.yaml');
    const config = loadConfig(hubEnv());
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

  it('exposes only /events publicly (no /publish, no /metrics)', () => {
    expect(allFields(read('deploy/ingress-nginx/ingress.yaml'), 'path')).toEqual(['/events']);
    expect(allFields(read('deploy/gateway-api/httproute.yaml'), 'value')).toEqual(['/events']);
  });
});
