/**
 * The soak (loadtest/lib/soak.ts) from the command line:
 *   npm run soak                          # 30 minutes
 *   npm run soak -- --minutes 5 --clients 100 --rate 100
 * Prints a line per sample and the summary on stderr, the whole report as one JSON line on stdout.
 * Exits 1 when an event was lost, repeated or out of order, or the idle hub's handles or descriptors
 * did not come back to where they were before the load.
 */
import { parseArgs } from 'node:util';
import { SOAK_DEFAULTS, runSoak, soakSummary } from './lib/soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: String(SOAK_DEFAULTS.durationMs / 60_000) },
    clients: { type: 'string', default: String(SOAK_DEFAULTS.clients) },
    rate: { type: 'string', default: String(SOAK_DEFAULTS.publishPerSecond) },
    'sample-seconds': { type: 'string', default: String(SOAK_DEFAULTS.sampleEveryMs / 1000) },
  },
});
const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got "${text}"`);
  return n;
};
const durationMs = positive('minutes', values.minutes) * 60_000;

// The whole run is bounded, whatever happens: the duration plus time to set up, catch up and audit
// (a loaded machine needs minutes for the last two).
setTimeout(() => {
  process.stderr.write('soak: time limit reached\n');
  process.exit(2);
}, durationMs + 15 * 60_000).unref();

const report = await runSoak({
  ...SOAK_DEFAULTS,
  durationMs,
  clients: positive('clients', values.clients),
  publishPerSecond: positive('rate', values.rate),
  sampleEveryMs: positive('sample-seconds', values['sample-seconds']) * 1000,
  log: (line) => process.stderr.write(line + '\n'),
});
process.stderr.write(soakSummary(report) + '\n');
process.stdout.write(JSON.stringify(report) + '\n');
const clean = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0 && report.final.handles <= report.baseline.handles && report.final.fds <= report.baseline.fds;
process.exit(clean ? 0 : 1);
