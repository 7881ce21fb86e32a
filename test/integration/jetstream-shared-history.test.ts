/**
 * Resumes that read JetStream's history at once (a rollout's reconnect storm reaching workers whose
 * replay buffers are empty): each gets exactly its own gap, and resumes from the same point share
 * one read of the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { readHistory } from '../../src/bus/jetstream/history.js';
import { SharedHistory } from '../../src/bus/jetstream/shared-history.js';
import type { HistoryRequest } from '../../src/bus/jetstream/history.js';
import type { HistoryResult } from '../../src/bus/bus.js';
import { publish, startTestHub } from '../helpers/hub.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { Subscriber } from '../helpers/sse-client.js';

describe('[jetstream] shared history reads', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('[jetstream] clients resuming at once from the same id and from different ids each get exactly their gap', async () => {
    // No replay buffer: every resume reads the stream, as on a worker that just started.
    const hub = await startTestHub(jetstreamEnv(nats, { HUB_REPLAY_MAX_EVENTS: '0', HUB_HISTORY_MAX_CONCURRENT_READS: '1' }));
    const open: Subscriber[] = [];
    try {
      const probe = new Subscriber(hub.url, ['storm', 'other']);
      open.push(probe);
      await probe.open();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        // Interleaved with another topic, so a gap is not just "everything after the id".
        const { body } = await publish(hub.url, 'storm', `s${i}`);
        ids.push(String(body.id));
        await publish(hub.url, 'other', `o${i}`);
      }
      await probe.waitForMessages(12);

      const resumes = [
        { from: ids[1]!, topics: ['storm'], expect: ['s2', 's3', 's4', 's5'] },
        { from: ids[1]!, topics: ['storm'], expect: ['s2', 's3', 's4', 's5'] },
        { from: ids[1]!, topics: ['other', 'storm'], expect: ['o1', 's2', 'o2', 's3', 'o3', 's4', 'o4', 's5', 'o5'] },
        { from: ids[3]!, topics: ['storm'], expect: ['s4', 's5'] },
        { from: ids[5]!, topics: ['storm'], expect: [] },
      ];
      const subs = resumes.map((r) => new Subscriber(hub.url, r.topics, { lastEventId: r.from }));
      open.push(...subs);
      await Promise.all(subs.map((s) => s.open()));
      for (const [i, sub] of subs.entries()) {
        expect({ resume: i, resets: sub.resets, got: sub.messages.map((e) => e.data) }).toEqual({ resume: i, resets: [], got: resumes[i]!.expect });
      }
      // Then live, exactly once after the replay.
      await publish(hub.url, 'storm', 'live');
      for (const sub of subs) await sub.waitForMessages(resumes[subs.indexOf(sub)]!.expect.length + 1);
      for (const [i, sub] of subs.entries()) expect(sub.messages.map((e) => e.data)).toEqual([...resumes[i]!.expect, 'live']);
    } finally {
      for (const sub of open) sub.close();
      await hub.shutdown();
    }
  });

  it('[jetstream] reads the stream once for many resumes from the same point, and slices each its own end', async () => {
    const env = jetstreamEnv(nats);
    const hub = await startTestHub(env);
    const nc: NatsConnection = await connect({ servers: nats.url });
    try {
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { body } = await publish(hub.url, 'slices', `e${i}`);
        seqs.push(Number(String(body.id).split('-')[1]));
      }
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      let reads = 0;
      let release: () => void = () => {};
      let gate = Promise.resolve();
      const closeGate = (): void => void (gate = new Promise<void>((resolve) => (release = resolve)));
      // The real reader, held back until every resume has asked: they all arrive while one read is queued.
      const shared = new SharedHistory(async (request: HistoryRequest) => {
        reads++;
        await gate;
        return readHistory(js, jsm, env.HUB_JETSTREAM_STREAM!, request);
      }, 1);
      const subject = `${env.HUB_SUBJECT_PREFIX}.slices`;
      const ask = (after: number, upTo: number): Promise<HistoryResult> => shared.get({ afterSeq: after, upToSeq: upTo, patterns: [subject], limit: 100 });
      closeGate();
      const busy = ask(seqs[4]!, seqs[4]!); // takes the one slot
      const sameStart = [ask(seqs[0]!, seqs[2]!), ask(seqs[0]!, seqs[4]!), ask(seqs[0]!, seqs[3]!)];
      const otherStart = ask(seqs[2]!, seqs[4]!);
      release();
      const data = (r: HistoryResult): string[] => (r.complete ? r.messages.map((m) => Buffer.from(m.data).toString()) : [r.reason]);
      expect(data(await busy)).toEqual([]);
      expect((await Promise.all(sameStart)).map(data)).toEqual([
        ['e1', 'e2'],
        ['e1', 'e2', 'e3', 'e4'],
        ['e1', 'e2', 'e3'],
      ]);
      expect(data(await otherStart)).toEqual(['e3', 'e4']);
      expect(reads).toBe(3); // the busy one, one for the three from seqs[0], one from seqs[2]

      // One shared read past the bound for the longest gap, not for a shorter one: the shorter is
      // read again alone, and each gets its own answer.
      closeGate();
      const busyAgain = ask(seqs[4]!, seqs[4]!);
      const bounded = (upTo: number): Promise<HistoryResult> => shared.get({ afterSeq: seqs[0]!, upToSeq: upTo, patterns: [subject], limit: 2 });
      const pair = Promise.all([bounded(seqs[2]!), bounded(seqs[4]!)]);
      release();
      const [short, long] = await pair;
      expect([data(short), data(long)]).toEqual([['e1', 'e2'], ['too-far-behind']]);
      expect(data(await busyAgain)).toEqual([]);
      expect(reads).toBe(6); // and the busy one, the shared one, the shorter gap alone
    } finally {
      await nc.close();
      await hub.shutdown();
    }
  });
});
