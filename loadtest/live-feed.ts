/**
 * What one worker's live feed costs, apart from SSE: K hubs' live feeds (src/bus/jetstream/live.ts,
 * each on its own connection, as K workers would be) read a JetStream stream while events are
 * published into it at a steady rate. Prints CPU per event of nats-server and of the feeds (this
 * process, the publisher's own share measured alone first and taken off), for each K and each
 * HUB_JETSTREAM_LIVE_BATCH given. CPU time, not throughput: it stays meaningful on a busy machine.
 *
 *   node --import tsx loadtest/live-feed.ts --workers 1,2,4 --batches 100,1000 --events 40000
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { LiveFeed } from '../src/bus/jetstream/live.js';
import { provisionStream } from '../src/bus/jetstream/stream.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { OPEN_ON_PURPOSE } from '../test/helpers/open-mode.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    batches: { type: 'string', default: '100,1000' },
    events: { type: 'string', default: '40000' },
    rate: { type: 'string', default: '20000' },
  },
});
const EVENTS = Number(values.events);
const RATE = Number(values.rate);
setTimeout(() => {
  process.stderr.write('live-feed: time limit reached\n');
  process.exit(2);
}, 10 * 60_000).unref();

const cpuMsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const selfCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const nats = await startNatsServer({ jetstream: true });
const log = createLogger('warn');
let run = 0;

/** Publishes EVENTS at RATE with core NATS (into the stream, no ack), 128-byte payloads over 100 topics. */
async function publishAll(nc: NatsConnection, prefix: string): Promise<void> {
  const payload = new Uint8Array(128).fill(120);
  const start = performance.now();
  for (let sent = 0; sent < EVENTS; ) {
    const due = Math.min(EVENTS, Math.floor(((performance.now() - start) * RATE) / 1000));
    while (sent < due) nc.publish(`${prefix}.t${sent++ % 100}`, payload);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function measure(workers: number, batch: number): Promise<{ natsUs: number; feedUs: number }> {
  const n = ++run;
  const config = loadConfig({ ...OPEN_ON_PURPOSE, NATS_URL: nats.url, HUB_JETSTREAM: '1', HUB_JETSTREAM_STREAM: `LF${n}`, HUB_SUBJECT_PREFIX: `lf${n}`, HUB_JETSTREAM_LIVE_BATCH: String(batch), HUB_JETSTREAM_STORAGE: 'file' });
  const settings = config.jetstream!;
  const admin = await connect({ servers: nats.url });
  const info = await provisionStream(admin, settings, log, () => false);
  const feeds: Array<{ nc: NatsConnection; feed: LiveFeed }> = [];
  let received = 0;
  for (let i = 0; i < workers; i++) {
    const nc = await connect({ servers: nats.url });
    const feed = new LiveFeed();
    feed.add(settings.subjects, () => void received++);
    await feed.start(nc.jetstream(), settings, info.state.last_seq);
    feeds.push({ nc, feed });
  }
  const publisher = await connect({ servers: nats.url });
  const natsPid = nats.pid()!;
  const nats0 = cpuMsOf(natsPid);
  const self0 = selfCpuMs();
  await publishAll(publisher, `lf${n}`);
  const deadline = Date.now() + 60_000;
  while (received < EVENTS * workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const natsMs = cpuMsOf(natsPid) - nats0;
  const selfMs = selfCpuMs() - self0;
  if (received !== EVENTS * workers) process.stderr.write(`  ! ${received} of ${EVENTS * workers} received\n`);
  for (const { nc, feed } of feeds) {
    feed.stop();
    await nc.close();
  }
  await publisher.close();
  await (await admin.jetstreamManager()).streams.delete(settings.stream);
  await admin.close();
  return { natsUs: (natsMs * 1000) / EVENTS, feedUs: (selfMs * 1000) / EVENTS };
}

try {
  const batches = values.batches!.split(',').map(Number);
  process.stdout.write('| workers | live batch | nats-server µs/event | publisher + feeds µs/event | feeds µs/event/worker |\n| --- | --- | --- | --- | --- |\n');
  await measure(2, batches[0]!); // warm-up: JIT, the server's first stream; not reported
  // The publisher alone (no feed): what the "feeds" column takes off.
  const alone = await measure(0, batches[0]!);
  process.stdout.write(`| 0 | – | ${alone.natsUs.toFixed(1)} | ${alone.feedUs.toFixed(1)} | – |\n`);
  for (const workers of values.workers!.split(',').map(Number)) {
    // Alternating the order, so neither batch size always runs first.
    for (const batch of workers % 2 ? batches : [...batches].reverse()) {
      const r = await measure(workers, batch);
      process.stdout.write(`| ${workers} | ${batch} | ${r.natsUs.toFixed(1)} | ${r.feedUs.toFixed(1)} | ${((r.feedUs - alone.feedUs) / workers).toFixed(1)} |\n`);
    }
  }
} finally {
  await nats[Symbol.asyncDispose]();
}
process.exit(0);
