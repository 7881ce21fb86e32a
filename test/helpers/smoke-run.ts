/** The checks every run of the load generator's smoke case must pass, whichever hub it ran against. */
import { expect } from 'vitest';
import { summary } from '../../loadtest/lib/report.js';
import type { CaseResult } from '../../loadtest/lib/run-case.js';

/**
 * Expects a clean run: no errors, every expected delivery made, nothing lost, duplicated, reset or
 * broken. Returns the run's summary, for the caller's own checks to print on failure.
 */
export function expectCleanRun(result: CaseResult): string {
  const report = summary(result);
  expect(result.errors, report).toEqual([]);
  expect(result.delivered, report).toBe(result.expected);
  const faults = { lost: result.lost, duplicated: result.duplicated, resets: result.resets, broken: result.broken };
  expect(faults, report).toEqual({ lost: 0, duplicated: 0, resets: 0, broken: 0 });
  return report;
}
