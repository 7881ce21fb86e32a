/**
 * The Dockerfile, checked as far as a machine without a Docker engine can: its build is replayed
 * (context through .dockerignore, every COPY and RUN of every stage in a scratch directory per
 * stage, the real `npm ci` and `tsc`), and the final stage's CMD is started as PID 1 in a fresh
 * PID namespace, probed with the HEALTHCHECK command, and stopped with SIGTERM, as an engine would.
 * Every step runs on the Node major the base image ships, whichever Node runs this suite: that one
 * when it matches, else one scripts/ensure-node.sh installs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { copyBuildContext, execForm, nodeImageMajor, parseDockerfile, parseDockerignore, splitFlags, type Stage } from '../helpers/dockerfile.js';
import { freePort } from '../helpers/net.js';
import { nodeBinDir } from '../helpers/node-bin.js';
import { caretFloors, satisfies } from '../helpers/semver-range.js';
import { RawStream } from '../helpers/raw-stream.js';
import { publish } from '../helpers/hub.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const ignoreRules = parseDockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
const runtime = dockerfile.stages.at(-1)!;
const image = dockerfile.args.get('NODE_IMAGE') ?? '';
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object; engines: { node: string } };
// RUN steps this replay executes on the host, so only ones known to stay inside their directory.
const REPLAYABLE_RUN = /^npm (ci|run build)( --[\w=-]+)*$/;
// The image runs with the defaults.
const SHUTDOWN_TIMEOUT_MS = DEFAULTS.HUB_SHUTDOWN_TIMEOUT_MS;
const DRAIN_WINDOW_MS = DEFAULTS.HUB_DRAIN_WINDOW_MS;
const STREAMS = 4;

interface BuiltStage {
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
}

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** Replays one stage; `built` holds the earlier stages (COPY --from); `path` finds the image's Node first. */
function replayStage(stage: Stage, context: string, scratch: string, built: ReadonlyMap<string, BuiltStage>, path: string): BuiltStage {
  const root = join(scratch, stage.name);
  mkdirSync(root, { recursive: true });
  const out: BuiltStage = { root, workdir: '/', env: {} };
  const inRoot = (path: string): string => join(root, path.startsWith('/') ? path : join(out.workdir, path));
  for (const { keyword, args, line } of stage.instructions) {
    const where = `Dockerfile line ${line} (${keyword} ${args})`;
    if (keyword === 'WORKDIR') {
      out.workdir = args.startsWith('/') ? args : join(out.workdir, args);
      mkdirSync(inRoot(out.workdir), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const m of args.matchAll(/(\w+)=(\S+)/g)) out.env[m[1]!] = m[2]!;
    } else if (keyword === 'COPY') {
      const { flags, rest } = splitFlags(args);
      const parts = rest.split(/\s+/);
      const dest = parts.pop()!;
      const fromStage = flags.get('from');
      const source = fromStage === undefined ? undefined : built.get(fromStage);
      if (fromStage !== undefined && !source) throw new Error(`${where}: no earlier stage ${fromStage}`);
      for (const src of parts) {
        const from = source ? join(source.root, src) : join(context, src);
        if (!existsSync(from)) throw new Error(`${where}: ${src} is not in the ${source ? `${fromStage} stage` : 'build context (.dockerignore?)'}`);
        const to = dest.endsWith('/') && !statSync(from).isDirectory() ? join(inRoot(dest), src.split('/').at(-1)!) : inRoot(dest);
        cpSync(from, to, { recursive: true });
      }
    } else if (keyword === 'RUN') {
      const command = splitFlags(args).rest;
      if (!REPLAYABLE_RUN.test(command)) throw new Error(`${where}: not a step this replay runs on the host; teach test/integration/container.test.ts`);
      const run = spawnSync('sh', ['-c', command], {
        cwd: inRoot(out.workdir),
        // The host's npm cache stands in for the build's cache mount; the result is the same.
        env: { PATH: path, HOME: process.env.HOME ?? '/root', npm_config_prefer_offline: 'true', ...out.env },
        encoding: 'utf8',
        timeout: 180_000,
      });
      if (run.status !== 0) throw new Error(`${where} failed (${run.status ?? run.signal}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-4000)}`);
    }
  }
  return out;
}

/** Starts `argv` as PID 1 of a new PID namespace (util-linux unshare), as a container runtime does. */
function startAsPid1(argv: readonly string[], cwd: string, env: Record<string, string>): ChildProcess {
  const userns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  return spawn('unshare', [...userns, '--pid', '--fork', '--kill-child', ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The host pid of the namespace's PID 1: unshare's child. */
async function pid1Of(unshare: ChildProcess): Promise<number> {
  return waitFor('the PID 1 process to appear', () => {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === unshare.pid) return Number(entry);
      } catch {
        // exited meanwhile
      }
    }
    return undefined;
  });
}

function nsPid(hostPid: number): string | undefined {
  return /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/).at(-1);
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('container image, replayed without an engine [container]', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ssehub-image-'));
  const built = new Map<string, BuiltStage>();
  let contextFiles: string[] = [];
  // The image's Node, first on the PATH of every step the replay runs (npm's scripts find node on PATH).
  let imageNode = '';
  let imagePath = '';

  beforeAll(() => {
    const nodeDir = nodeBinDir(nodeImageMajor(image));
    imageNode = realpathSync(join(nodeDir, 'node'));
    imagePath = `${nodeDir}:${process.env.PATH!}`;
    const context = join(scratch, 'context');
    contextFiles = copyBuildContext(REPO, ignoreRules, context);
    for (const stage of dockerfile.stages) built.set(stage.name, replayStage(stage, context, join(scratch, 'stages'), built, imagePath));
  }, 300_000);

  // The scratch copy holds a full `npm ci` (dev dependencies, Vite among them): removing it takes a while on a busy disk.
  afterAll(() => rmSync(scratch, { recursive: true, force: true }), 120_000);

  it('sends a minimal context: sources and manifests, nothing local or generated', () => {
    expect(contextFiles).toContain('package-lock.json');
    expect(contextFiles).toContain('src/main.ts');
    expect(contextFiles).toContain('client/ssehub.ts');
    for (const file of contextFiles) {
      expect(file).toMatch(/^(package(-lock)?\.json|tsconfig(\.build)?\.json|src\/.+\.ts|client\/([\w-]+\.ts|tsconfig\.json|(demo|admin)\/[\w.-]+\.(html|js|css)))$/);
    }
  });

  it('builds FROM the newest Node line engines supports, slim, multi-stage; the replay runs that Node', () => {
    expect(image).toMatch(/^node:\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    const major = nodeImageMajor(image);
    expect(major).toBe(Math.max(...caretFloors(pkg.engines.node).map(([line]) => line)));
    expect(dockerfile.stages.map((s) => s.from)).toEqual(dockerfile.stages.map(() => image));
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const version = spawnSync('node', ['--version'], { env: { PATH: imagePath }, encoding: 'utf8', timeout: 10_000 }).stdout.trim();
    console.log(`[container] ${image}: build and CMD replayed on Node ${version}`);
    expect(version.startsWith(`v${major}.`), version).toBe(true);
    expect(satisfies(version, pkg.engines.node), `${version} in engines ${pkg.engines.node}`).toBe(true);
  });

  it('ships production dependencies and compiled JavaScript only', () => {
    const app = join(built.get(runtime.name)!.root, 'app');
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
    expect(existsSync(join(app, 'dist/healthcheck.js'))).toBe(true);
    expect(existsSync(join(app, 'client/dist/ssehub.js'))).toBe(true);
    expect(existsSync(join(app, 'client/demo/index.html'))).toBe(true);
    expect(existsSync(join(app, 'client/admin/index.html'))).toBe(true);
    expect(existsSync(join(app, 'client/ssehub.ts'))).toBe(false);
    expect(existsSync(join(app, 'src'))).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('runs as a numeric non-root user, node itself in exec form', () => {
    const [user] = instructions(runtime, 'USER');
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(execForm(instructions(runtime, 'CMD')[0]!)?.[0]).toBe('node');
    expect(instructions(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('as PID 1: answers, passes its HEALTHCHECK, streams, goes unready and drains on SIGTERM, exits 0 in time; the HEALTHCHECK then fails', async () => {
    const stage = built.get(runtime.name)!;
    const cwd = join(stage.root, stage.workdir);
    const port = await freePort();
    const env = { PATH: imagePath, ...stage.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' };
    const cmd = execForm(instructions(runtime, 'CMD')[0]!)!;
    const healthcheck = execForm(splitFlags(instructions(runtime, 'HEALTHCHECK')[0]!).rest.replace(/^CMD\s+/, ''))!;
    const runHealthcheck = () => spawnSync(healthcheck[0]!, healthcheck.slice(1), { cwd, env, encoding: 'utf8', timeout: 5000 }).status;
    const url = `http://127.0.0.1:${port}`;

    const hub = startAsPid1(cmd, cwd, env);
    let logs = '';
    hub.stdout?.on('data', (c: Buffer) => (logs += c.toString()));
    hub.stderr?.on('data', (c: Buffer) => (logs += c.toString()));
    const streams: RawStream[] = [];
    try {
      const pid = await pid1Of(hub);
      expect(nsPid(pid)).toBe('1');
      await waitFor(`the image's hub to answer /healthz (logs: ${logs})`, () => fetch(`${url}/healthz`).then((r) => r.ok, () => false), 15_000, 100);
      // Read once it answers: by then PID 1 has exec'd node (before, it can still be unshare's fork).
      expect(realpathSync(`/proc/${pid}/exe`)).toBe(imageNode);
      expect(runHealthcheck()).toBe(0);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      for (let i = 0; i < STREAMS; i++) streams.push(new RawStream(`${url}/events?topic=image`));
      for (const stream of streams) await stream.waitForText('event: hub.open');
      await publish(url, 'image', 'from-the-image');
      for (const stream of streams) await stream.waitForText('data: from-the-image\n');

      const signalled = performance.now();
      process.kill(pid, 'SIGTERM');
      // Unready at once, while the default drain window is still ending streams.
      await waitFor('/readyz to turn 503', () => fetch(`${url}/readyz`).then((r) => r.status === 503, () => false), 2000);
      expect(streams.filter((stream) => stream.endedAt === undefined).length).toBeGreaterThan(0);
      const code = await withTimeout('the hub to exit after SIGTERM', exited(hub), SHUTDOWN_TIMEOUT_MS + 2000);
      const tookMs = performance.now() - signalled;
      const endedMs = streams.map((stream) => Math.round(stream.endedAt! - signalled));
      console.log(`[container] PID 1, SIGTERM with ${STREAMS} streams: ended at ${endedMs.join(', ')} ms, exited at ${tookMs.toFixed(0)} ms`);
      expect(code, logs).toBe(0);
      // The k-th of n streams ends at k/n of HUB_DRAIN_WINDOW_MS (default 5000), all within the timeout.
      expect(Math.max(...endedMs)).toBeGreaterThan(DRAIN_WINDOW_MS * 0.5);
      expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      expect(logs).toMatch(/"msg":"stopped"/);
      expect(runHealthcheck()).not.toBe(0);
    } finally {
      for (const stream of streams) stream.close();
      hub.kill('SIGKILL');
    }
  });

  it('control: a PID 1 without a SIGTERM handler ignores SIGTERM (why the hub installs its own)', async () => {
    const idle = startAsPid1(['node', '-e', 'setInterval(() => {}, 1000)'], tmpdir(), { PATH: imagePath });
    try {
      const pid = await pid1Of(idle);
      expect(nsPid(pid)).toBe('1');
      await sleep(300); // node is running its script, not still starting
      process.kill(pid, 'SIGTERM');
      await sleep(500);
      expect(idle.exitCode).toBeNull();
    } finally {
      idle.kill('SIGKILL');
      await exited(idle);
    }
  });
});
