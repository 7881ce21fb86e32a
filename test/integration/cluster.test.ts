/**
 * HUB_WORKERS=2 on a real core NATS server: the real entry point (src/main.ts) forks two workers that
 * share one port; the load generator's smoke case checks that every subscriber gets every event
 * once whichever worker holds its stream and whichever took the HTTP publish; SIGTERM stops all.
 * (On JetStream, where a storm may resume on either worker, see loadtest.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CASES } from '../../loadtest/lib/cases.js';
import { runCase } from '../../loadtest/lib/run-case.js';
import { TargetKind, ssehubTarget } from '../../loadtest/lib/targets.js';
import { withCluster } from '../helpers/hub-cluster.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { expectCleanRun } from '../helpers/smoke-run.js';

let nats: NatsServer | undefined;
afterAll(async () => {
  await nats?.[Symbol.asyncDispose]();
});

describe('[nats] cluster of hub workers', () => {
  it('[nats] [loadtest] two workers on one port deliver every event once to every subscriber, and stop on SIGTERM', async () => {
    nats = await startNatsServer();
    await withCluster({ NATS_URL: nats.url }, async (port, pid) => {
      // Publish over HTTP (any worker takes it and NATS brings it to both): no reconnect storm,
      // since ids are per worker and a resume on the other worker rightly gets hub.reset.
      const target = { ...ssehubTarget(TargetKind.SsehubCluster, port, pid, undefined) };
      const spec = { ...CASES.smoke!, id: 'smoke-cluster', stormAtSeconds: undefined };
      const result = await runCase(target, spec);
      const report = expectCleanRun(result);
      expect(result.published, report).toBeGreaterThan(0);
    });
  }, 150_000);
});
