// Memory per idle event stream, for sizing (docs/deploy.md, "Sizing"). Starts the built hub
// (npm run build first) on a loopback port, reads its RSS from /metrics, opens STREAMS idle streams
// over 100 topics, reads RSS again, prints the difference per stream, and stops everything.
// Bounded: STREAMS (default 4000, at most 15000) connections to 127.0.0.1, and a 60 s deadline.
//   node loadtest/stream-memory.mjs [STREAMS]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';

const STREAMS = Math.min(Number(process.argv[2] ?? 4000), 15_000);
const deadline = setTimeout(() => {
  console.error('stream-memory: gave up after 60 s');
  process.exit(1);
}, 60_000);

const port = await new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = srv.address();
    srv.close(() => resolve(free));
  });
});
const hub = spawn(process.execPath, ['dist/main.js'], {
  env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', HUB_DRAIN_WINDOW_MS: '0', HUB_MAX_CONNECTIONS: String(STREAMS + 10) },
  stdio: 'inherit',
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if ((await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) === true) break;
  if (i > 100) throw new Error('hub did not start');
  await sleep(100);
}
const rss = async () => Number(/^ssehub_process_resident_memory_bytes (\S+)/m.exec(await (await fetch(`${base}/metrics`)).text())[1]);

await sleep(500);
const before = await rss();
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const requests = [];
for (let i = 0; i < STREAMS; i++) {
  await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/events?topic=t.${i % 100}`, agent }, (res) => {
      res.resume();
      resolve();
    });
    req.once('error', reject);
    requests.push(req);
  });
}
await sleep(2000); // let the hub settle (allocations after open, GC)
const after = await rss();
const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
console.log(`streams=${STREAMS} rss_before=${mib(before)}MiB rss_after=${mib(after)}MiB per_stream=${((after - before) / STREAMS / 1024).toFixed(1)}KiB`);

for (const req of requests) req.destroy();
hub.kill('SIGTERM');
await new Promise((resolve) => hub.once('exit', resolve));
clearTimeout(deadline);
