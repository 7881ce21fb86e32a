/**
 * Starts a real nginx (Debian package `nginx`) in front of hubs on loopback, as a child process in
 * the foreground with its own prefix, config, temp dirs and error log under a temp dir. There is no
 * fallback: a missing binary fails the test loudly (scripts/test.sh installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from './net.js';
import { sleep } from './wait.js';

// /usr/sbin is not on every user's PATH.
export const NGINX_BIN = process.env.NGINX_BIN ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

export interface NginxUpstream {
  readonly port: number;
  /** Used only when every other upstream failed for a request (nginx `backup`). */
  readonly backup?: boolean;
}

export interface NginxOptions {
  readonly upstreams: readonly NginxUpstream[];
  /** Directives for the proxied location (see ingress-nginx.ts). */
  readonly location: readonly string[];
  /**
   * Where those directives apply, as nginx location matchers (`= /events`, `/client/`); default `/`
   * (everything). Requests no matcher takes get nginx's own 404 and never reach a hub.
   */
  readonly paths?: readonly string[];
  /** Extra directives in the http block (gzip, ...). */
  readonly http?: readonly string[];
}

export interface Nginx extends AsyncDisposable {
  readonly url: string;
  /** The error log so far, for failure messages. */
  errorLog(): string;
  stop(): Promise<void>;
}

function assertNginxInstalled(): void {
  const probe = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`nginx is not installed (${NGINX_BIN}): run "npm test", which installs it with apt, or "apt-get install nginx"`);
  }
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  assertNginxInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-nginx-'));
  for (const sub of ['logs', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const servers = options.upstreams.map((u) => `    server 127.0.0.1:${u.port} max_fails=1 fail_timeout=10s${u.backup ? ' backup' : ''};`);
  const config = [
    // As root, nginx would switch its workers to "nobody", who cannot use this private temp dir.
    process.getuid?.() === 0 ? 'user root;' : '',
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'logs', 'error.log')} info;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${join(dir, 'client_body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'scgi')};`,
    ...(options.http ?? []).map((d) => `  ${d}`),
    '  upstream hub {',
    ...servers,
    '    keepalive 16;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    ...(options.paths ?? ['/']).flatMap((path) => [`    location ${path} {`, '      proxy_pass http://hub;', ...options.location.map((d) => `      ${d}`), '    }']),
    '  }',
    '}',
    '',
  ].join('\n');
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  const errorLogFile = join(dir, 'logs', 'error.log');
  const errorLog = (): string => {
    try {
      return readFileSync(errorLogFile, 'utf8').slice(-4096);
    } catch {
      return '';
    }
  };

  let output = '';
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', configFile, '-e', errorLogFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (output.length < 8192) output += chunk.toString();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // SIGTERM is nginx's fast shutdown: workers close open streams at once.
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const problem = child.exitCode !== null ? `exited with ${child.exitCode}` : `did not listen on ${port} within 10 s`;
      const log = errorLog();
      await stop();
      throw new Error(`nginx ${problem}: ${output}${log}\n--- config ---\n${config}`);
    }
    await sleep(25);
  }
  return { url: `http://127.0.0.1:${port}`, errorLog, stop, [Symbol.asyncDispose]: stop };
}
