/**
 * The soak: one hub process on JetStream under steady load with churn for a long time, sampled every
 * few seconds, to catch what only shows over time (memory, handles or descriptors that grow, an
 * event lost or repeated once in a hundred thousand). loadtest/soak.ts runs it from the command line
 * (`npm run soak`, 30 minutes by default); test/integration/soak.test.ts runs two minutes of it in CI.
 *
 * Load: HTTP and NATS publishers alternating at a steady rate over a few small topics and one topic
 * of large events; long-lived clients that drop and reconnect with Last-Event-ID at random; short-lived
 * clients that come and go; slow readers that stop reading until the hub cuts them (its slow-consumer
 * bound), then resume with Last-Event-ID. Every publish is acknowledged with its stream sequence, so
 * each client's expected events are known exactly: lost and duplicated totals must be 0.
 *
 * Clients are raw HTTP requests read with the load generator's own SSE parser: a hundred of them cost
 * the driver little, and a paused response is a real reader that stops reading.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { readdirSync } from 'node:fs';
import { connect as natsConnect, type JetStreamClient, type NatsConnection } from 'nats';
import { startHubProcess, type HubProcess } from '../../test/helpers/hub-process.js';
import { jetstreamEnv } from '../../test/helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { SseResponseParser, type SseBlock } from './sse-parser.js';

export interface SoakOptions {
  readonly durationMs: number;
  readonly sampleEveryMs: number;
  /** Long-lived clients (each on one small topic, or on the large-event topic when slow). */
  readonly clients: number;
  /** Of those, how many read slowly now and then (on the large-event topic). */
  readonly slowClients: number;
  readonly smallTopics: number;
  /** Events per second over all topics, half over HTTP, half straight to NATS. */
  readonly publishPerSecond: number;
  /** Bytes of each large event (the slow readers' topic). */
  readonly largeEventBytes: number;
  /** Progress lines (one per sample); silent by default. */
  readonly log?: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  durationMs: 30 * 60_000,
  sampleEveryMs: 10_000,
  clients: 60,
  slowClients: 4,
  smallTopics: 6,
  publishPerSecond: 60,
  largeEventBytes: 60_000,
};

/** Samples this early are warm-up (JIT, first allocations): slopes start after it when enough samples remain. */
const WARM_UP_S = 60;

/** One sample of the hub process. */
export interface SoakSample {
  readonly atS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  /** Largest event-loop delay since the previous sample (prom-client resets its histogram per scrape). */
  readonly loopDelayMaxMs: number;
  readonly handles: number;
  readonly fds: number;
  readonly streams: number;
}

export interface SoakReport {
  readonly durationS: number;
  readonly samples: readonly SoakSample[];
  /** Least-squares slope of each sampled figure over the run (after the first minute's warm-up), per hour. */
  readonly slopesPerHour: Readonly<Record<'rssMiB' | 'heapMiB' | 'loopDelayMaxMs' | 'handles' | 'fds', number>>;
  readonly published: { readonly http: number; readonly nats: number; readonly failed: number };
  /** Events the clients had to receive (per client, summed), what they missed, what came twice. */
  readonly expected: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly resets: number;
  readonly reconnects: number;
  readonly shortLivedClients: number;
  readonly slowConsumerCuts: number;
  /** Handles and descriptors of the idle hub before the load, and after every client has gone. */
  readonly baseline: { readonly handles: number; readonly fds: number };
  readonly final: { readonly handles: number; readonly fds: number };
}

interface Acked {
  readonly topic: string;
  readonly data: string;
  readonly seq: number;
}

const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf('-') + 1));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const randomBetween = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** One SSE client over a raw HTTP request: records what it got, resumes with Last-Event-ID. */
class SoakClient {
  /** Payload tags received, in order, across reconnects, with their seqs. */
  readonly received: { data: string; seq: number }[] = [];
  /** Seq of the first hub.open: the client must get every event of its topic after it. */
  startSeq: number | undefined;
  lastId: string | undefined;
  resets = 0;
  opens = 0;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: number,
    readonly topic: string,
  ) {}

  connect(): void {
    if (this.closed) return;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
    const req = request({ host: '127.0.0.1', port: this.port, path: `/events?topic=${this.topic}`, headers, agent: false });
    this.req = req;
    const parser = new SseResponseParser(
      () => {},
      (block) => this.onBlock(block),
    );
    req.on('response', (res) => {
      this.res = res;
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => this.scheduleReconnect(200));
        return;
      }
      // The parser wants the head too: hand it a synthetic one (the body is chunked).
      parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
      res.on('data', (chunk: Buffer) => parser.push(chunk));
      res.on('error', () => {});
      res.on('close', () => this.scheduleReconnect(randomBetween(20, 200)));
    });
    req.on('error', () => this.scheduleReconnect(200));
    req.end();
  }

  private onBlock(block: SseBlock): void {
    if (block.comment || block.id === undefined) return;
    if (block.event === 'hub.open') {
      this.opens++;
      if (this.startSeq === undefined) this.startSeq = seqOf(block.id);
    } else if (block.event === 'hub.reset') {
      this.resets++;
    } else if (block.data !== undefined) {
      const tag = block.data.slice(0, block.data.indexOf(':'));
      this.received.push({ data: tag, seq: seqOf(block.id) });
    }
    this.lastId = block.id;
  }

  /** Drop the connection (as a network blip would); it comes back with Last-Event-ID. */
  drop(): void {
    this.req?.destroy();
  }

  /** Stop reading for a while: the hub's slow-consumer bound cuts the stream, and it resumes after. */
  stall(ms: number): void {
    const res = this.res;
    if (!res) return;
    res.pause();
    setTimeout(() => res.resume(), ms).unref();
  }

  private scheduleReconnect(ms: number): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, ms);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.req?.destroy();
  }
}

/** What one client got against what its topic was acknowledged with after it joined, up to `untilSeq`. */
function audit(client: SoakClient, acked: readonly Acked[], untilSeq: number): { expected: number; lost: number; duplicated: number; outOfOrder: number } {
  const start = client.startSeq ?? Number.POSITIVE_INFINITY;
  const expected = acked.filter((a) => a.topic === client.topic && a.seq > start && a.seq <= untilSeq);
  const got = client.received.filter((r) => r.seq <= untilSeq);
  const seen = new Set(got.map((r) => r.data));
  let outOfOrder = 0;
  for (let i = 1; i < got.length; i++) if (got[i]!.seq <= got[i - 1]!.seq) outOfOrder++;
  return {
    expected: expected.length,
    lost: expected.filter((e) => !seen.has(e.data)).length,
    duplicated: got.length - seen.size,
    outOfOrder,
  };
}

/** Least squares: slope of y over x, in y per unit of x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The hub's own figures, from its /metrics (prom-client's default metrics) and /proc. */
async function sampleHub(hub: HubProcess, startedAt: number): Promise<SoakSample> {
  const text = await (await fetch(`${hub.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const metric = (name: string): number => {
    const match = new RegExp(`^ssehub_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : Number.NaN;
  };
  return {
    atS: Math.round((Date.now() - startedAt) / 1000),
    rssMiB: hub.rss() / 2 ** 20,
    heapMiB: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
    loopDelayMaxMs: metric('nodejs_eventloop_lag_max_seconds') * 1000,
    handles: metric('nodejs_active_handles_total'),
    fds: readdirSync(`/proc/${hub.pid}/fd`).length,
    streams: metric('connections'),
  };
}

async function idleCounts(hub: HubProcess): Promise<{ handles: number; fds: number }> {
  const s = await sampleHub(hub, Date.now());
  return { handles: s.handles, fds: s.fds };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const nats: NatsServer = await startNatsServer({ jetstream: true });
  const env = jetstreamEnv(nats, {
    LOG_LEVEL: 'warn',
    // Small enough that a reader stalled for a few seconds on the large-event topic is cut.
    HUB_MAX_BUFFERED_BYTES: String(256 * 1024),
    HUB_HEARTBEAT_MS: '5000',
    // Large events for half an hour would fill a GiB of disk; resumes need only the last minutes.
    HUB_JETSTREAM_MAX_BYTES: String(256 * 2 ** 20),
  });
  const prefix = env.HUB_SUBJECT_PREFIX!;
  let hub: HubProcess | undefined;
  let nc: NatsConnection | undefined;
  const clients: SoakClient[] = [];
  const shortLived: SoakClient[] = [];
  try {
    hub = await startHubProcess(env);
    const port = hub.port;
    nc = await natsConnect({ servers: nats.url });
    const js: JetStreamClient = nc.jetstream();
    // Settled: the idle hub's handles and descriptors, before any client or publish.
    await sleep(1000);
    const baseline = await idleCounts(hub);

    const small = Array.from({ length: options.smallTopics }, (_, i) => `soak.t${i}`);
    const large = 'soak.large';
    for (let i = 0; i < options.clients; i++) {
      const client = new SoakClient(port, i < options.slowClients ? large : small[i % small.length]!);
      clients.push(client);
      client.connect();
    }
    const waitUntil = async (what: string, ok: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    await waitUntil('every client to open', () => clients.every((c) => c.startSeq !== undefined), 30_000);

    const acked: Acked[] = [];
    const published = { http: 0, nats: 0, failed: 0 };
    let n = 0;
    let stopping = false;
    const padding = 'x'.repeat(options.largeEventBytes);
    const publishOne = async (): Promise<void> => {
      const i = ++n;
      // One event in five on the large-event topic: its readers are the slow ones.
      const topic = i % 5 === 0 ? large : small[i % small.length]!;
      const data = `p${i}:${topic === large ? padding : 'soak'}`;
      try {
        if (i % 2 === 0) {
          const res = await fetch(`http://127.0.0.1:${port}/publish?topic=${topic}`, { method: 'POST', body: data, signal: AbortSignal.timeout(10_000) });
          const body = (await res.json()) as { id?: string };
          if (res.status !== 200 || !body.id) throw new Error(`publish answered ${res.status}`);
          acked.push({ topic, data: `p${i}`, seq: seqOf(body.id) });
          published.http++;
        } else {
          const ack = await js.publish(`${prefix}.${topic}`, new TextEncoder().encode(data));
          acked.push({ topic, data: `p${i}`, seq: ack.seq });
          published.nats++;
        }
      } catch {
        published.failed++;
      }
    };
    const publisher = (async () => {
      const every = 1000 / options.publishPerSecond;
      let next = Date.now();
      while (!stopping) {
        await publishOne();
        next += every;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else if (wait < -1000) next = Date.now(); // behind: never burst to catch up
      }
    })();

    let reconnects = 0;
    const churn = (async () => {
      while (!stopping) {
        await sleep(500);
        // A dropped long-lived client every half second, back with Last-Event-ID.
        const victim = clients[options.slowClients + Math.floor(Math.random() * (clients.length - options.slowClients))];
        if (victim) {
          victim.drop();
          reconnects++;
        }
        // A slow reader stalls now and then, for longer than the hub lets its queue grow.
        // (Loopback socket buffers hold several MB before the hub's own queue grows at all.)
        if (Math.random() < 0.1) clients[Math.floor(Math.random() * options.slowClients)]?.stall(randomBetween(10_000, 25_000));
        // Short-lived clients: one comes about every second and stays a few seconds.
        if (Math.random() < 0.5) {
          const client = new SoakClient(port, small[Math.floor(Math.random() * small.length)]!);
          shortLived.push(client);
          client.connect();
          setTimeout(() => client.close(), randomBetween(1000, 8000)).unref();
        }
      }
    })();

    const startedAt = Date.now();
    const samples: SoakSample[] = [];
    const record = async () => {
      const s = await sampleHub(hub!, startedAt);
      samples.push(s);
      log(
        `soak ${s.atS}s: rss ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, loop delay max ${s.loopDelayMaxMs.toFixed(1)} ms, ` +
          `handles ${s.handles}, fds ${s.fds}, streams ${s.streams}, published ${published.http + published.nats} (${published.failed} failed)`,
      );
    };
    await record();
    while (Date.now() - startedAt < options.durationMs) {
      await sleep(Math.min(options.sampleEveryMs, options.durationMs - (Date.now() - startedAt)));
      await record();
    }
    stopping = true;
    await publisher;
    await churn;
    for (const c of shortLived) c.close();
    log(`soak: load stopped after ${Math.round((Date.now() - startedAt) / 1000)} s; waiting for every client's last event`);

    // A last event on every topic: a client that has it has had its chance at everything before it.
    for (const topic of [...small, large]) {
      const ack = await js.publish(`${prefix}.${topic}`, new TextEncoder().encode(`final-${topic}:end`));
      acked.push({ topic, data: `final-${topic}`, seq: ack.seq });
    }
    const untilSeq = Math.max(...acked.map((a) => a.seq));
    await waitUntil(
      'every long-lived client to get the last event of its topic',
      () => clients.every((c) => c.received.some((r) => r.data === `final-${c.topic}`)),
      120_000,
    );

    log(`soak: every client has its last event (${Math.round((Date.now() - startedAt) / 1000)} s); auditing`);
    const totals = { expected: 0, lost: 0, duplicated: 0, outOfOrder: 0, resets: 0 };
    const add = (a: ReturnType<typeof audit>) => {
      totals.expected += a.expected;
      totals.lost += a.lost;
      totals.duplicated += a.duplicated;
      totals.outOfOrder += a.outOfOrder;
    };
    for (const c of clients) add(audit(c, acked, untilSeq));
    // A short-lived client owes only what came before its last event (it left whenever it left).
    for (const c of shortLived) add(audit(c, acked, c.received.at(-1)?.seq ?? 0));
    for (const c of [...clients, ...shortLived]) totals.resets += c.resets;

    const metricsText = await (await fetch(`${hub.url}/metrics`)).text();
    const slowConsumerCuts = Number(/^ssehub_slow_consumer_closes_total (\S+)$/m.exec(metricsText)?.[1] ?? 0);

    for (const c of clients) c.close();
    // Every stream gone: the hub's handles and descriptors must come back to the idle baseline.
    let final = await idleCounts(hub);
    const deadline = Date.now() + 30_000;
    while ((final.handles > baseline.handles || final.fds > baseline.fds) && Date.now() < deadline) {
      await sleep(500);
      final = await idleCounts(hub);
    }

    const settled = samples.filter((s) => s.atS >= WARM_UP_S);
    const fitted = settled.length >= 3 ? settled : samples;
    const xs = fitted.map((s) => s.atS / 3600);
    const slopeOf = (key: keyof SoakReport['slopesPerHour']) => slope(xs, fitted.map((s) => s[key]));
    return {
      durationS: Math.round((Date.now() - startedAt) / 1000),
      samples,
      slopesPerHour: { rssMiB: slopeOf('rssMiB'), heapMiB: slopeOf('heapMiB'), loopDelayMaxMs: slopeOf('loopDelayMaxMs'), handles: slopeOf('handles'), fds: slopeOf('fds') },
      published,
      ...totals,
      reconnects,
      shortLivedClients: shortLived.length,
      slowConsumerCuts,
      baseline,
      final,
    };
  } finally {
    for (const c of [...clients, ...shortLived]) c.close();
    await nc?.close().catch(() => {});
    await hub?.stop('SIGKILL').catch(() => {});
    await nats[Symbol.asyncDispose]();
  }
}

/** The report as the lines loadtest/README.md quotes. */
export function soakSummary(r: SoakReport): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  const first = r.samples[0];
  const last = r.samples.at(-1);
  return [
    `soak: ${r.durationS} s, ${r.samples.length} samples; published ${r.published.http} over HTTP + ${r.published.nats} to NATS (${r.published.failed} failed)`,
    `delivery: expected ${r.expected}, lost ${r.lost}, duplicated ${r.duplicated}, out of order ${r.outOfOrder}, resets ${r.resets}; ` +
      `${r.reconnects} drops resumed, ${r.shortLivedClients} short-lived clients, ${r.slowConsumerCuts} slow-consumer cuts`,
    `first → last sample: rss ${f(first?.rssMiB ?? 0, 1)} → ${f(last?.rssMiB ?? 0, 1)} MiB, heap ${f(first?.heapMiB ?? 0, 1)} → ${f(last?.heapMiB ?? 0, 1)} MiB, ` +
      `handles ${first?.handles} → ${last?.handles}, fds ${first?.fds} → ${last?.fds}`,
    `slope per hour: rss ${f(r.slopesPerHour.rssMiB)} MiB, heap ${f(r.slopesPerHour.heapMiB)} MiB, loop delay max ${f(r.slopesPerHour.loopDelayMaxMs)} ms, ` +
      `handles ${f(r.slopesPerHour.handles)}, fds ${f(r.slopesPerHour.fds)}`,
    `idle hub before → after: handles ${r.baseline.handles} → ${r.final.handles}, fds ${r.baseline.fds} → ${r.final.fds}`,
  ].join('\n');
}
