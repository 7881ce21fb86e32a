/**
 * A three-node NATS cluster (real nats-server processes clustered on loopback, JetStream on each),
 * the hubs' stream replicated three ways (HUB_JETSTREAM_REPLICAS=3), three hub processes behind a
 * load balancer that clients hop through, and HTTP and NATS publishers going on throughout. The
 * faults, one after the other: kill -9 the node a hub is connected to, then the stream's leader
 * (each restarted afterwards), then freeze a node (SIGSTOP) past the PING bound and thaw it.
 *
 * Every event whose publish was acknowledged (200 with an id, a JetStream ack) reaches every
 * subscriber exactly once, in stream order, and nothing else does; no client sees hub.reset (the
 * stream keeps what any one node missed). Publishers retry what was not acknowledged under the same
 * message id, as docs/nats.md says they should. Detection and recovery times are printed, never
 * asserted tighter than their bound plus a generous margin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, type NatsConnection } from 'nats';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsCluster, waitForJetStream, type ClusterNode, type NatsCluster } from '../helpers/nats-cluster.js';
import { Subscriber } from '../helpers/sse-client.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

const PING_INTERVAL_MS = 500;
const MAX_PINGS_OUT = 2;
/** When a hub must have called a silent node gone, from its last answer. */
const DETECTION_BOUND_MS = PING_INTERVAL_MS * (MAX_PINGS_OUT + 1);
/** A shared, noisy machine: late timers, a slow log pipe. */
const SLACK_MS = 5000;
/** A hub's NATS reconnect after a node is gone, with a leader election in the way: generous. */
const RECOVERY_BOUND_MS = 30_000;

const SUBJECTS = ['c.a', 'c.b'];
const TOPICS_OF = [['c.a'], ['c.b'], ['c.*'], ['>']];

interface Acked {
  readonly topic: string;
  readonly data: string;
  readonly seq: number;
}

const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));

/** The hub's own "bus connected"/"bus disconnected" log lines, with when they arrived. */
class BusLog {
  readonly lines: { at: number; connected: boolean; reason: string }[] = [];
  constructor(hub: HubProcess) {
    let rest = '';
    hub.child.stdout!.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString();
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"bus ')) continue;
        const entry = JSON.parse(line) as { msg: string; nats?: string };
        if (entry.msg === 'bus connected' || entry.msg === 'bus disconnected') this.lines.push({ at: Date.now(), connected: entry.msg === 'bus connected', reason: entry.nats ?? '' });
      }
    });
  }

  /** The first disconnect after `since`, and the reconnect after it. */
  async outage(since: number, detectWithinMs: number): Promise<{ detectedMs: number; recoveredMs: number; reason: string }> {
    const down = await waitFor('the hub to call NATS gone', () => this.lines.find((l) => l.at >= since && !l.connected), detectWithinMs, 10);
    const up = await waitFor('the hub to reconnect', () => this.lines.find((l) => l.at >= down.at && l.connected), RECOVERY_BOUND_MS, 10);
    return { detectedMs: down.at - since, recoveredMs: up.at - down.at, reason: down.reason };
  }
}

/** Publishes e0, e1, … on alternating subjects, each retried under its own id until acknowledged. */
class Publisher {
  readonly acked: Acked[] = [];
  attempts = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly send: (topic: string, data: string, msgId: string) => Promise<number | undefined>,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const topic = SUBJECTS[i % SUBJECTS.length]!;
      const data = `${this.name}${i}`;
      for (;;) {
        this.attempts++;
        const seq = await this.send(topic, data, `${this.name}-${i}`).catch(() => undefined);
        if (seq !== undefined) {
          this.acked.push({ topic, data, seq });
          break;
        }
        await sleep(100);
      }
      await sleep(40);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function matches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length || (p[i] !== '*' && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

describe('a three-node NATS cluster with a stream replicated 3 ways [faults] [nats-cluster3] [jetstream]', () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });

  it('kill -9 a hub\'s node, then the stream leader, then freeze a node: every acknowledged event once, in order, no reset', { timeout: 300_000 }, async () => {
    const env = jetstreamEnv(
      { url: cluster.urls },
      {
        HUB_JETSTREAM_REPLICAS: '3',
        HUB_NATS_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
        HUB_NATS_MAX_PINGS_OUT: String(MAX_PINGS_OUT),
        HUB_JETSTREAM_PUBLISH_TIMEOUT_MS: '2000',
        HUB_RETRY_MS: '50',
      },
    );
    const prefix = env.HUB_SUBJECT_PREFIX!;
    const stream = env.HUB_JETSTREAM_STREAM!;
    const hubs: HubProcess[] = [];
    const logs: BusLog[] = [];
    const proxy = new TcpProxy([]);
    const subs: Subscriber[] = [];
    let nc: NatsConnection | undefined;
    const figures: string[] = [];
    let cutting = true;
    try {
      for (let i = 0; i < 3; i++) {
        const hub = await startHubProcess(env);
        hubs.push(hub);
        logs.push(new BusLog(hub));
      }
      nc = await connect({ servers: cluster.urls.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(stream);
      expect(info.config.num_replicas).toBe(3);

      const lb = await proxy.start();
      proxy.setTargets(hubs.map((h) => h.port));
      for (const topics of TOPICS_OF) subs.push(new Subscriber(lb, topics));
      await Promise.all(subs.map((s) => s.open(1, 20_000)));

      let next = 0;
      const http = new Publisher('h', async (topic, data, msgId) => {
        const hub = hubs[next++ % hubs.length]!;
        const res = await fetch(`${hub.url}/publish?topic=${topic}`, { method: 'POST', body: data, headers: { 'Nats-Msg-Id': msgId }, signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { id?: string };
        return res.status === 200 && body.id ? seqOf(body.id) : undefined;
      });
      const js = nc.jetstream();
      const natsPublisher = new Publisher('n', async (topic, data, msgId) => {
        const h = headers();
        const ack = await js.publish(`${prefix}.${topic}`, new TextEncoder().encode(data), { msgID: msgId, timeout: 2000, headers: h });
        return ack.seq;
      });
      // Clients hop between hubs all along: every connection cut every second and a half.
      const hopping = (async () => {
        while (cutting) {
          await sleep(1500);
          proxy.cut();
        }
      })();
      const ackedCount = () => http.acked.length + natsPublisher.acked.length;
      // Ten more acknowledgements since `from`: the cluster takes publishes again (a new leader, a reconnect).
      const publishesGoOn = async (what: string, from: number) => {
        const before = ackedCount();
        await waitFor(`publishes to be acknowledged again after ${what}`, () => ackedCount() >= before + 10, RECOVERY_BOUND_MS, 20);
        return Date.now() - from;
      };
      await sleep(1000);

      // 1. kill -9 the node hub 0 is connected to.
      const home = cluster.nodeOf(hubs[0]!.pid);
      expect(home, 'hub 0 holds a connection to a cluster node').toBeDefined();
      let at = Date.now();
      await home!.stop(true);
      const killed = await logs[0]!.outage(at, DETECTION_BOUND_MS + SLACK_MS);
      const killedAcks = await publishesGoOn('the kill', at);
      figures.push(`kill -9 ${home!.name} (hub 0's node): hub 0 not ready after ${killed.detectedMs} ms (${killed.reason}), ready again ${killed.recoveredMs} ms later; 10 more publishes acknowledged ${killedAcks} ms after the kill`);
      await home!.restart();
      await waitForJetStream(cluster.nodes);

      // 2. kill -9 the stream's leader.
      const leaderName = (await jsm.streams.info(stream)).cluster?.leader;
      const leader = cluster.node(leaderName!);
      const onLeader = hubs.map((h, i) => [i, cluster.nodeOf(h.pid)] as const).filter(([, n]) => n === leader).map(([i]) => i);
      at = Date.now();
      await leader.stop(true);
      const leaderAcks = await publishesGoOn('the leader was killed', at);
      const leaderOutages = await Promise.all(onLeader.map((i) => logs[i]!.outage(at, DETECTION_BOUND_MS + SLACK_MS)));
      figures.push(
        `kill -9 ${leader.name} (stream leader; hubs on it: ${onLeader.join(', ') || 'none'}): 10 more publishes acknowledged ${leaderAcks} ms after the kill` +
          leaderOutages.map((o, k) => `; hub ${onLeader[k]} not ready after ${o.detectedMs} ms, ready ${o.recoveredMs} ms later`).join(''),
      );
      await leader.restart();
      await waitForJetStream(cluster.nodes);
      await waitFor('the restarted leader to be current again', async () => {
        const replicas = (await jsm.streams.info(stream)).cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current) || undefined;
      }, RECOVERY_BOUND_MS, 200);

      // 3. freeze the node hub 1 is connected to, past the PING bound, then thaw it.
      const frozen: ClusterNode | undefined = cluster.nodeOf(hubs[1]!.pid);
      expect(frozen, 'hub 1 holds a connection to a cluster node').toBeDefined();
      at = Date.now();
      frozen!.freeze();
      let stale: Awaited<ReturnType<BusLog['outage']>>;
      try {
        stale = await logs[1]!.outage(at, DETECTION_BOUND_MS + SLACK_MS);
        await sleep(DETECTION_BOUND_MS);
      } finally {
        frozen!.thaw();
      }
      const thawedAcks = await publishesGoOn('the thaw', at);
      figures.push(`SIGSTOP ${frozen!.name} (hub 1's node) for ${Date.now() - at} ms: hub 1 not ready after ${stale.detectedMs} ms (${stale.reason}; bound ${DETECTION_BOUND_MS} ms), ready again ${stale.recoveredMs} ms later; 10 more publishes acknowledged ${thawedAcks} ms after the freeze began`);
      await waitForJetStream(cluster.nodes);

      cutting = false;
      await hopping;
      await http.stop();
      await natsPublisher.stop();
      const acked = [...http.acked, ...natsPublisher.acked];
      for (const subject of SUBJECTS) {
        const ack = await js.publish(`${prefix}.${subject}`, new TextEncoder().encode(`last-${subject}`));
        acked.push({ topic: subject, data: `last-${subject}`, seq: ack.seq });
      }
      for (const hub of hubs) expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);

      for (const [i, sub] of subs.entries()) {
        const mine = acked.filter((a) => TOPICS_OF[i]!.some((p) => matches(p, a.topic))).sort((a, b) => a.seq - b.seq);
        await waitFor(`client ${i} to get its last events`, () => mine.filter((m) => m.data.startsWith('last-')).every((m) => sub.messages.some((e) => e.data === m.data)), 30_000);
        const got = sub.messages.map((e) => ({ data: e.data, seq: seqOf(e.id) }));
        // Exactly the acknowledged events, each with the id its acknowledgement gave, in stream order.
        expect({ client: i, got }).toEqual({ client: i, got: mine.map(({ data, seq }) => ({ data, seq })) });
        expect({ client: i, resets: sub.resets }).toEqual({ client: i, resets: [] });
        expect(sub.opens).toBeGreaterThan(3);
      }
      console.log(
        `[faults] [nats-cluster3] ping ${PING_INTERVAL_MS} ms × ${MAX_PINGS_OUT} out (bound ${DETECTION_BOUND_MS} ms); ${acked.length} events acknowledged ` +
          `(${http.attempts + natsPublisher.attempts} attempts), ${subs.length} clients, ${subs.reduce((n, s) => n + s.opens, 0)} streams opened\n  ` +
          figures.join('\n  '),
      );
    } finally {
      cutting = false;
      for (const s of subs) s.close();
      await proxy.close();
      await nc?.close().catch(() => {});
      for (const h of hubs) await h.stop('SIGKILL');
    }
  });
});
