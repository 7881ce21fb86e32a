/**
 * The load generator's smoke case, so it cannot rot: a few hundred real connections, a few seconds
 * of publishing, a reconnect storm with Last-Event-ID in the middle. Asserts correctness only
 * (nothing lost, nothing duplicated, everyone caught up); speed is for loadtest/compare.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CASES } from '../../loadtest/lib/cases.js';
import { runCase } from '../../loadtest/lib/run-case.js';
import { BENCH_ENV, TargetKind, ssehubTarget } from '../../loadtest/lib/targets.js';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub } from '../helpers/hub.js';
import { expectCleanRun } from '../helpers/smoke-run.js';

const kinds = busKinds();
afterAll(async () => {
  for (const kind of kinds) await kind.dispose();
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
