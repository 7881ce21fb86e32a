// Memory per idle event stream, for sizing (docs/performance.md, "Memory per idle stream"). Starts
// a built hub (npm run build first; SSEHUB_DIST=<dist dir> for another build) on a loopback port,
// opens STREAMS idle streams over 100 topics (200 connecting at a time), and prints per stream the
// hub's RSS right after they opened and, after a forced full GC, its RSS and V8 heap, each minus
// the same before (also after GC). Bounded: STREAMS (default 4000, at most 15000) connections to
// 127.0.0.1, and a 10 minute deadline (a shared machine can be slow to open thousands of streams).
//   node loadtest/stream-memory.mjs [STREAMS]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STREAMS = Math.min(Number(process.argv[2] ?? 4000), 15_000);
const DIST = process.env.SSEHUB_DIST ?? 'dist';
const deadline = setTimeout(() => {
  console.error('stream-memory: gave up after 10 min');
  hub.kill('SIGKILL');
  process.exit(1);
}, 600_000);

const port = await new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = srv.address();
    srv.close(() => resolve(free));
  });
});
const out = join(tmpdir(), `ssehub-memory-${port}.json`);
const hook = new URL('./lib/gc-on-signal.mjs', import.meta.url).pathname;
const hub = spawn(process.execPath, ['--expose-gc', '--import', hook, join(DIST, 'main.js')], {
  env: {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    HUB_ALLOW_OPEN: '1',
    HUB_DRAIN_WINDOW_MS: '0',
    HUB_MAX_CONNECTIONS: String(STREAMS + 10),
    SSEHUB_MEMORY_OUT: out,
  },
  stdio: 'inherit',
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if ((await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) === true) break;
  if (i > 600) throw new Error('hub did not start');
  await sleep(100);
}
/** The hub's memory after a full GC (see lib/gc-on-signal.mjs). */
async function settled() {
  rmSync(out, { force: true });
  hub.kill('SIGUSR2');
  while (!existsSync(out)) await sleep(50);
  await sleep(100);
  return JSON.parse(readFileSync(out, 'utf8'));
}
const rssNow = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))[1]) * 1024;

await sleep(500);
const before = await settled();
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const requests = [];
const started = performance.now();
await new Promise((resolve, reject) => {
  let next = 0;
  let open = 0;
  const more = () => {
    for (; next < STREAMS && next - open < 200; next++) {
      const req = http.get({ host: '127.0.0.1', port, path: `/events?topic=t.${next % 100}`, agent }, (res) => {
        res.once('data', () => (++open === STREAMS ? resolve() : more()));
      });
      req.once('error', reject);
      requests.push(req);
    }
  };
  more();
});
const connectMs = performance.now() - started;
const rssOpened = rssNow();
await sleep(1000);
const after = await settled();
const kib = (bytes) => (bytes / STREAMS / 1024).toFixed(2);
console.log(
  `${DIST} streams=${STREAMS} connect_ms=${connectMs.toFixed(0)} per_stream: rss_opened=${kib(rssOpened - before.rss)}KiB ` +
    `rss_after_gc=${kib(after.rss - before.rss)}KiB heap_after_gc=${kib(after.heapUsed - before.heapUsed)}KiB`,
);

for (const req of requests) req.destroy();
hub.kill('SIGTERM');
await new Promise((resolve) => hub.once('exit', resolve));
clearTimeout(deadline);
