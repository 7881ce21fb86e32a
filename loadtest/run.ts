/**
 * One case against one target:  node --import tsx loadtest/run.ts --case a --target ssehub
 * Prints a readable summary on stderr and one JSON line on stdout. Needs `npm run build` first
 * (ssehub runs from dist/, as in production).
 */
import { parseArgs } from 'node:util';
import { CASES } from './lib/cases.js';
import { summary } from './lib/report.js';
import { runCase } from './lib/run-case.js';
import { TargetKind, startTarget } from './lib/targets.js';

const { values } = parseArgs({ options: { case: { type: 'string', default: 'a' }, target: { type: 'string', default: 'ssehub' } } });
const spec = CASES[values.case!];
if (!spec) throw new Error(`unknown case "${values.case}"; one of ${Object.keys(CASES).join(', ')}`);
const kinds = Object.values(TargetKind) as string[];
if (!kinds.includes(values.target!)) throw new Error(`unknown target "${values.target}"; one of ${kinds.join(', ')}`);

// The whole run is bounded, whatever happens.
setTimeout(() => {
  process.stderr.write('loadtest: time limit reached\n');
  process.exit(2);
}, 5 * 60_000).unref();

const target = await startTarget(values.target as TargetKind);
// Ctrl-C or a kill must not leave the server running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void target.stop().finally(() => process.exit(130)));
try {
  const result = await runCase(target, spec);
  process.stderr.write(summary(result) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await target.stop();
}
process.exit(0);
