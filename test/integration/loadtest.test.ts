/**
 * The load generator's smoke case, so it cannot rot: a few hundred real connections, a few seconds
 * of publishing, a reconnect storm with Last-Event-ID in the middle. Asserts correctness only
 * (nothing lost, nothing duplicated, everyone caught up); speed is for loadtest/compare.ts. It runs
 * on every bus in this process, and in the deployed shape: JetStream with two worker processes,
 * where a client resumes on whichever worker takes its reconnect.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CASES } from '../../loadtest/lib/cases.js';
import { runCase } from '../../loadtest/lib/run-case.js';
import { BENCH_ENV, TargetKind, ssehubTarget } from '../../loadtest/lib/targets.js';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub } from '../helpers/hub.js';
import { withCluster } from '../helpers/hub-cluster.js';
import { jetstreamEnv } from '../helpers/jetstream-env.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { expectCleanRun } from '../helpers/smoke-run.js';

const kinds = busKinds();
let jsNats: NatsServer | undefined;
afterAll(async () => {
  for (const kind of kinds) await kind.dispose();
  await jsNats?.[Symbol.asyncDispose]();
});

describe.each(kinds)('[loadtest] smoke case on the $name bus', (kind) => {
  it(`[loadtest] [${kind.name}] delivers every event once to every subscriber, through a reconnect storm`, async () => {
    const env = await kind.env();
    await using hub = await startTestHub({ ...BENCH_ENV, LOG_LEVEL: 'silent', ...env });
    const target = ssehubTarget(kind.name === 'memory' ? TargetKind.Ssehub : TargetKind.SsehubNats, hub.port, process.pid, env.NATS_URL, env.HUB_SUBJECT_PREFIX);
    const spec = CASES.smoke!;
    const result = await runCase(target, spec);
    const report = expectCleanRun(result);
    expect(result.connectFailed, report).toBe(0);
    expect(result.published, report).toBe(spec.publish.kind === 'rate' ? spec.publish.perSecond * spec.publish.seconds : 0);
    expect(result.expected, report).toBe(result.published * (spec.subscribers / spec.topics));
    expect(result.notCaughtUp, report).toBe(0);
  }, 90_000);
});

describe('[jetstream] [loadtest] smoke case on JetStream with two workers', () => {
  it('[jetstream] [loadtest] [cluster] a reconnect storm across two workers loses, repeats and resets nothing', async () => {
    jsNats = await startNatsServer({ jetstream: true });
    const env = jetstreamEnv(jsNats);
    await withCluster(env, async (port, pid) => {
      // Published straight into the stream (core NATS), as the benchmark's JetStream targets do.
      const target = ssehubTarget(TargetKind.SsehubJetStreamCluster, port, pid, jsNats!.url, env.HUB_SUBJECT_PREFIX, [jsNats!.pid()!]);
      const spec = CASES.smoke!;
      const result = await runCase(target, spec);
      const report = expectCleanRun(result);
      expect(result.connectFailed, report).toBe(0);
      expect(result.published, report).toBe(spec.publish.kind === 'rate' ? spec.publish.perSecond * spec.publish.seconds : 0);
      expect(result.notCaughtUp, report).toBe(0); // undefined would mean the storm never ran
    });
  }, 150_000);
});
