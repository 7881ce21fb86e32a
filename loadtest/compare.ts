/**
 * The side-by-side comparison: every case against every target, targets alternating (the order
 * rotates each round, so neither side always runs on a warmer or busier machine), each target a
 * fresh process tree per run. Prints a summary per run, one JSON line per run, and the table of
 * medians with the ratio ssehub/nchan per figure; writes everything to loadtest/results/.
 *
 *   npm run bench:compare -- --cases a,b --targets ssehub,nchan --rounds 3
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CASES } from './lib/cases.js';
import { comparisonTable, summary } from './lib/report.js';
import { runCase, type CaseResult } from './lib/run-case.js';
import { TargetKind, startTarget } from './lib/targets.js';

const ALL_TARGETS = Object.values(TargetKind) as string[];
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: 'a,b,c,d,e' },
    targets: { type: 'string', default: ALL_TARGETS.filter((t) => t !== TargetKind.SsehubBase).join(',') },
    rounds: { type: 'string', default: '1' },
  },
});
const caseIds = values.cases!.split(',');
const targets = values.targets!.split(',');
const rounds = Number(values.rounds);
for (const id of caseIds) if (!CASES[id]) throw new Error(`unknown case "${id}"; one of ${Object.keys(CASES).join(', ')}`);
for (const t of targets) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target "${t}"; one of ${ALL_TARGETS.join(', ')}`);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 5) throw new Error('--rounds must be 1..5');

// Bounded: 5 cases x 4 targets x 5 rounds at about a minute each is the worst case.
setTimeout(() => {
  process.stderr.write('compare: time limit reached\n');
  process.exit(2);
}, 2 * 3600_000).unref();

const machine = {
  date: new Date().toISOString(),
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  // nginx prints its version on stderr.
  nginx: execFileSync('sh', ['-c', '/usr/sbin/nginx -v 2>&1'], { encoding: 'utf8' }).trim(),
};
process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

// Ctrl-C or a kill must not leave a server running: stop the one under test, then exit.
let current: { stop(): Promise<void> } | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const results: CaseResult[] = [];
for (const id of caseIds) {
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const kind of order) {
      const target = await startTarget(kind as TargetKind);
      current = target;
      try {
        const result = await runCase(target, CASES[id]!);
        results.push(result);
        process.stderr.write(summary(result) + '\n');
        process.stdout.write(JSON.stringify(result) + '\n');
      } catch (err) {
        process.stderr.write(`case ${id} on ${kind} failed: ${(err as Error).message}\n`);
      } finally {
        current = undefined;
        await target.stop();
      }
      await new Promise((r) => setTimeout(r, 1000)); // let sockets in TIME_WAIT and the CPU settle
    }
  }
}

const table = comparisonTable(results, targets);
process.stderr.write(`\n${table}\n`);
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.json'), JSON.stringify({ machine, results }, null, 2) + '\n');
writeFileSync(join(dir, 'latest.md'), `Measured ${machine.date} on ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.nginx}.\n\n${table}\n`);
process.exit(0);
