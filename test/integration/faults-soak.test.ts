/**
 * The soak (loadtest/lib/soak.ts) for two minutes, the CI version of `npm run soak`: steady HTTP and
 * NATS publishing with churn (drops resumed with Last-Event-ID, short-lived clients, slow readers cut
 * and resuming) against one hub process on JetStream. Fails on any event lost, repeated or out of
 * order, and on handles or descriptors of the idle hub that do not come back to their baseline. The
 * slopes are printed, not asserted: two minutes on a shared machine say nothing about them.
 */
import { describe, expect, it } from 'vitest';
import { SOAK_DEFAULTS, runSoak, soakSummary } from '../../loadtest/lib/soak.js';

const DURATION_MS = Number(process.env.SOAK_CI_MS ?? 120_000);

describe('soak [soak] [jetstream]', () => {
  it(`loses, repeats and leaks nothing over ${DURATION_MS / 1000} s of load with churn`, { timeout: DURATION_MS + 6 * 60_000 }, async () => {
    const report = await runSoak({ ...SOAK_DEFAULTS, durationMs: DURATION_MS });
    const summary = soakSummary(report);
    console.log(`[soak]\n${summary}`);
    expect(report.published.http + report.published.nats, summary).toBeGreaterThan(0);
    expect(report.expected, summary).toBeGreaterThan(0);
    expect({ lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder, resets: report.resets }, summary).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, resets: 0 });
    expect(report.final.handles, summary).toBeLessThanOrEqual(report.baseline.handles);
    expect(report.final.fds, summary).toBeLessThanOrEqual(report.baseline.fds);
  });
});
